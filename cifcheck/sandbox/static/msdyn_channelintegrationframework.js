// The sandbox's CIF 2.0 host library. It builds the communication panel (#SidePanelIFrame -> widget
// container -> one iframe per provider) and answers the widgets' postMessage requests (setmode, getmode,
// getenvironment) after checking the sender's domain against the channel URL and the trusted domain.
(function () {
  "use strict";
  const mark = (event, detail) => window.__sandbox.timeline.push({ event, detail: detail || null, at: performance.now() });
  const SENDER_REFUSED = "Sender domain is not a recognised or is invalid and hence the message cant be processed";
  window.Microsoft = window.Microsoft || {};
  Microsoft.CIFramework = { Internal: { version: "2.0", providers: [] } };
  mark("cif-library-running");

  function hostMatches(pattern, host) {
    pattern = pattern.toLowerCase();
    if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1));
    return host === pattern;
  }

  function hostOf(url) {
    try { return new URL(url).hostname.toLowerCase(); } catch (error) { return ""; }
  }

  // Domains are compared by host name only, the port ignored (cif-facts.md).
  function homeSessionFocused() {
    const home = document.getElementById("sessionContainer-session-id-0");
    return !!home && home.getAttribute("aria-selected") === "true";
  }

  function isRecognisedSender(provider, origin) {
    const sender = hostOf(origin);
    if (!sender) return false;
    if (sender === hostOf(provider.msdyn_channelurl)) return true;
    const trusted = (provider.msdyn_trusteddomain || "").split(/[;,\s]+/).filter(Boolean);
    return trusted.some((domain) => hostMatches(hostOf(domain.includes("//") ? domain : "http://" + domain), sender));
  }

  function widgetFrames() {
    const container = window.__sandbox.panelFrame;
    if (!container || !container.contentDocument) return [];
    return [...container.contentDocument.querySelectorAll("iframe[data-provider-id]")];
  }

  function providerForSource(source) {
    for (const frame of widgetFrames()) {
      if (frame.contentWindow === source) {
        return Microsoft.CIFramework.Internal.providers.find((p) => p.msdyn_channelproviderid === frame.dataset.providerId);
      }
    }
    return null;
  }

  function respond(event, outcome, data, correlationId) {
    event.source.postMessage({ messageOutcome: outcome, messageData: data, messageCorrelationId: correlationId }, event.origin);
  }

  function handle(event) {
    const message = event.data;
    if (!message || typeof message !== "object" || !message.messageType) return;
    const provider = providerForSource(event.source);
    if (!provider || !isRecognisedSender(provider, event.origin)) {
      mark("message-refused", event.origin);
      if (!message.messageCorrelationId) {
        console.trace("Ignoring message from unknown event source: " + event.origin);
        return;
      }
      respond(event, "failure", SENDER_REFUSED, message.messageCorrelationId);
      return;
    }
    mark("message", message.messageType);
    const severalOnHome = Microsoft.CIFramework.Internal.providers.length > 1 && homeSessionFocused();
    switch (message.messageType) {
      case "setmode":
        // "Not supported on the home session when several providers are configured" (CIF 2.0 reference).
        if (severalOnHome) {
          respond(event, "failure", "This operation can be performed from the active provider", message.messageCorrelationId);
          return;
        }
        Xrm.Panel.state = message.messageData.value;
        respond(event, "success", null, message.messageCorrelationId);
        return;
      case "getmode":
        // Documented to return 0 (minimized) or 1 (docked) only.
        respond(event, "success", Xrm.Panel.state === 1 ? 1 : 0, message.messageCorrelationId);
        return;
      case "getenvironment": {
        const context = Xrm.Utility.getGlobalContext();
        context.getCurrentAppProperties().then((app) => respond(event, "success", {
          appid: app.appId, pagetype: "dashboard", id: "", clientUrl: context.getClientUrl(),
          appUrl: context.getCurrentAppUrl(), orgLcid: 1033, orgUniqueName: context.organizationSettings.uniqueName,
          userId: context.userSettings.userId, userLcid: 1033, username: context.userSettings.userName,
          orgId: context.organizationSettings.organizationId, customParams: provider.msdyn_customparams || "",
        }, message.messageCorrelationId));
        return;
      }
      default:
        respond(event, "failure", "Unsupported message type: " + message.messageType, message.messageCorrelationId);
    }
  }

  function broadcastMode(value) {
    for (const frame of widgetFrames()) {
      const provider = Microsoft.CIFramework.Internal.providers.find((p) => p.msdyn_channelproviderid === frame.dataset.providerId);
      frame.contentWindow.postMessage(
        { messageType: "onmodechanged", messageData: { value }, isEventFlag: true }, new URL(provider.msdyn_channelurl).origin);
    }
  }

  Microsoft.AppRuntime.Internal.getChannelProviders().then((providers) => {
    Microsoft.CIFramework.Internal.providers = providers;
    if (providers.length === 0) {
      mark("cif-no-providers");
      return;
    }
    window.addEventListener("message", handle);
    Xrm.Panel.onStateChange(broadcastMode);
    Xrm.Panel.loadPanel({ url: "/webresources/widgets_container.html", position: 1, defaultCollapsedBehavior: false });
  });
})();
