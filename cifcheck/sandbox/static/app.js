// The sandbox org's app runtime: a small emulation of the Unified Interface shell that matters to CIF 2.0.
// It boots (after the scenario's boot time), exposes Xrm, reads the app profile through the Web API, writes
// the profile to session storage and loads the profile's application extensions, as cif-facts.md describes.
(function () {
  "use strict";
  const boot = JSON.parse(document.getElementById("uci-bootstrap").textContent);
  const timeline = [];
  const mark = (event, detail) => timeline.push({ event, detail: detail ?? null, at: performance.now() });
  // Test-only observation point: the benchmark reads when the sandbox itself considered each step done.
  window.__sandbox = { timeline };

  // Unified Interface's own readiness signal (EasyRepro and Power Apps Test Engine wait on it): busy while the app
  // boots and loads its extensions, idle after. An app that loads extensions lazily is idle before it does.
  let busyWith = 1; // booting
  window.UCWorkBlockTracker = { isAppIdle: () => busyWith === 0 };
  const workDone = (what) => {
    busyWith -= 1;
    if (busyWith === 0) mark("app-idle", what);
  };

  const PANEL_MODES = { 0: "minimized", 1: "docked", 2: "hidden", 3: "collapsed" };
  let panelState = 1; // docked is the documented default
  const modeListeners = [];

  function applyPanelState(state) {
    const host = document.getElementById("panelHost");
    for (const name of Object.values(PANEL_MODES)) host.classList.remove("panel-" + name);
    host.classList.add("panel-" + PANEL_MODES[state]);
    host.dataset.mode = String(state);
  }

  const Panel = {
    get state() { return panelState; },
    set state(value) {
      if (!(value in PANEL_MODES)) throw new Error("Invalid panel state: " + value);
      panelState = value;
      applyPanelState(value);
      mark("panel-mode", value);
      for (const listener of modeListeners) listener(value);
    },
    onStateChange(listener) { modeListeners.push(listener); },
    loadPanel(options) {
      const host = document.getElementById("panelHost");
      const frame = document.createElement("iframe");
      // Today's markup is UNKNOWN (cif-facts.md): the "variant" layout drops the 2023 id and keeps the title.
      if (boot.panelMarkup !== "variant") frame.id = "SidePanelIFrame";
      frame.title = "SidePanelIFrame";
      frame.name = "SidePanelIFrame";
      frame.src = options.url + (boot.panelMarkup === "variant" ? "?layout=variant" : "");
      window.__sandbox.panelFrame = frame;
      host.appendChild(frame);
      host.hidden = false;
      applyPanelState(panelState);
      mark("panel-created");
      return Promise.resolve(frame);
    },
  };

  function serialiseProviders(providers) {
    const camel = providers.map((p) => ({
      id: p.msdyn_channelproviderid, name: p.msdyn_name, uniqueName: p.msdyn_uniquename,
      label: p.msdyn_label, apiVersion: "2", channelUrl: p.msdyn_channelurl,
      enableAnalytics: p.msdyn_enableanalytics, enableOutBound: p.msdyn_enableoutbound,
      sortOrder: String(p.msdyn_sortorder), trustedDomain: p.msdyn_trusteddomain || "",
      customParams: p.msdyn_customparams || "",
    }));
    if (boot.storage.format === "msdyn") return JSON.stringify(providers);
    if (boot.storage.format === "pascal-map") {
      const byName = {};
      for (const p of camel) {
        byName[p.uniqueName] = Object.fromEntries(
          Object.entries(p).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), v]));
      }
      return JSON.stringify({ Version: 2, Providers: byName });
    }
    return JSON.stringify(camel);
  }

  function serialiseExtensions(extensions) {
    if (boot.storage.format === "msdyn") return JSON.stringify(extensions);
    const camel = extensions.map((e) => ({
      name: e.msdyn_name, uniqueName: e.msdyn_uniquename, webResourceUrl: e.msdyn_webresource_url,
      type: e.msdyn_type,
    }));
    if (boot.storage.format === "pascal-map") {
      const byName = {};
      for (const e of camel) byName[e.uniqueName] = { Name: e.name, WebResourceUrl: e.webResourceUrl, Type: e.type };
      return JSON.stringify(byName);
    }
    return JSON.stringify(camel);
  }

  function loadScript(path, tracked) {
    const script = document.createElement("script");
    script.src = boot.resourceOrigin + "/%7b" + boot.cacheToken + "%7d/" + path;
    if (tracked) busyWith += 1;
    const done = (event) => {
      mark(event, path);
      if (tracked) workDone(path);
    };
    script.onload = () => done("extension-loaded");
    script.onerror = () => done("extension-failed");
    document.head.appendChild(script);
  }

  async function loadProfile() {
    // The profile the org gives this user (the server worked it out); none: the user gets no provider.
    let profile = { msdyn_appconfig_msdyn_channelprovider: [], msdyn_appconfiguration_applicationextension: [] };
    if (boot.profileId) {
      const expand = "msdyn_appconfig_msdyn_channelprovider,msdyn_appconfiguration_applicationextension";
      const response = await fetch(
        "/api/data/v9.2/msdyn_appconfigurations(" + boot.profileId + ")?$expand=" + expand,
        { headers: { Accept: "application/json", "OData-Version": "4.0" } });
      profile = await response.json();
    }
    const providers = profile.msdyn_appconfig_msdyn_channelprovider
      .concat(boot.cachedProviders)
      .filter((p) => p.statecode === 0)
      .sort((a, b) => a.msdyn_sortorder - b.msdyn_sortorder);
    const extensions = profile.msdyn_appconfiguration_applicationextension;
    const prefix = boot.storage.prefix;
    const writeProviders = () => {
      sessionStorage.setItem(prefix + "channelProviders", serialiseProviders(providers));
      mark("storage-written", "channelProviders");
    };
    // Without the cached profile the runtime has no providers to hand to the CIF library either.
    let written = Promise.resolve(boot.storage.writeProviders ? providers : []);
    if (boot.storage.writeProviders && boot.profileStepsMs) {
      // Written in two steps: an empty list first, the providers later.
      sessionStorage.setItem(prefix + "channelProviders", "[]");
      written = new Promise((done) => setTimeout(() => { writeProviders(); done(providers); }, boot.profileStepsMs));
    } else if (boot.storage.writeProviders) {
      writeProviders();
    }
    sessionStorage.setItem(prefix + "applicationExtensions", serialiseExtensions(extensions));
    mark("storage-written", "applicationExtensions");
    window.Microsoft = window.Microsoft || {};
    Microsoft.AppRuntime = { Internal: { getChannelProviders: () => written } };
    const loadExtensions = (tracked) => {
      for (const extension of extensions) {
        if (/\.js$/i.test(extension.msdyn_webresource_url)) loadScript(extension.msdyn_webresource_url, tracked);
      }
      for (const path of boot.legacyScripts) loadScript(path, tracked);
    };
    if (boot.lazyExtensionsMs) setTimeout(() => loadExtensions(false), boot.lazyExtensionsMs);
    else loadExtensions(true);
  }

  function start() {
    window.Xrm = {
      Panel,
      Utility: {
        getGlobalContext: () => ({
          getClientUrl: () => boot.org.url,
          getVersion: () => "9.2.25113.00000",
          getCurrentAppUrl: () => boot.org.url + "/main.aspx?appid=" + boot.app.id,
          getCurrentAppProperties: () => Promise.resolve({
            appId: boot.app.id, uniqueName: boot.app.uniqueName, displayName: boot.app.displayName,
          }),
          userSettings: { userId: "{" + boot.user.id + "}", userName: boot.user.name },
          organizationSettings: { uniqueName: boot.org.uniqueName, organizationId: boot.org.id },
        }),
      },
    };
    document.getElementById("userName").textContent = boot.user.name;
    document.getElementById("appTabPanel").hidden = false;
    // Unified Interface rewrites main.aspx?appname=... to the app id once the app is known.
    history.replaceState(null, "", "main.aspx?appid=" + boot.app.id + "&pagetype=dashboard");
    mark("app-ready");
    if (boot.busy) {
      let beat = 0;
      setInterval(() => sessionStorage.setItem("telemetry." + (beat++ % 50), String(Date.now())), 150);
      setInterval(() => fetch("/api/data/v9.2/WhoAmI").catch(() => {}), 500);
    }
    loadProfile()
      .catch((error) => { mark("profile-failed", String(error)); console.error(error); })
      .finally(() => workDone("profile"));
  }

  document.querySelector("[aria-label='Collapse Communication Panel']")
    .addEventListener("click", () => { Panel.state = 3; });
  document.querySelector("[aria-label='Expand Communication Panel']")
    .addEventListener("click", () => { Panel.state = 1; });
  setTimeout(start, boot.appReadyMs);
})();
