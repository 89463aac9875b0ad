// The sandbox's widget-side client library (/webresources/Widget/msdyn_ciLibrary.js). It posts requests to
// window.top in the documented shape, accepts answers only from its allowed domains, and fires CIFInitDone.
(function () {
  "use strict";
  const TIMEOUT_MS = 10000;
  const script = document.currentScript;
  const params = new URLSearchParams(location.search);
  const crmUrl = (script && script.dataset.crmurl) || params.get("ucilib") || document.referrer;
  const allowedDomains = [crmUrl, params.get("ucilib")].filter(Boolean).map((url) => new URL(url).hostname);
  const pending = new Map();
  const handlers = { onmodechanged: [] };
  let nextId = 1;

  window.addEventListener("message", (event) => {
    if (!allowedDomains.includes(new URL(event.origin).hostname)) return;
    const message = event.data || {};
    if (message.isEventFlag && handlers[message.messageType]) {
      for (const handler of handlers[message.messageType]) handler(JSON.stringify(message.messageData));
      return;
    }
    const request = pending.get(message.messageCorrelationId);
    if (!request) return;
    pending.delete(message.messageCorrelationId);
    clearTimeout(request.timer);
    if (message.messageOutcome === "success") request.resolve(message.messageData);
    else request.reject(new Error(String(message.messageData)));
  });

  function send(messageType, messageData) {
    return new Promise((resolve, reject) => {
      const messageCorrelationId = "cif-" + nextId++;
      const timer = setTimeout(() => {
        pending.delete(messageCorrelationId);
        reject(new Error("Timeout occurred as no response was received from listener window"));
      }, TIMEOUT_MS);
      pending.set(messageCorrelationId, { resolve, reject, timer });
      window.top.postMessage({ messageType, messageData, messageCorrelationId, isEventFlag: false }, new URL(crmUrl).origin);
    });
  }

  window.Microsoft = window.Microsoft || {};
  Microsoft.CIFramework = {
    setMode(value) {
      if (![0, 1, 2, 3].includes(value)) return Promise.reject(new Error("The setMode paramter value must be 0, 1 or 2."));
      return send("setmode", { value });
    },
    getMode: () => send("getmode", null),
    getEnvironment: () => send("getenvironment", null),
    addHandler(name, handler) { (handlers[name.toLowerCase()] = handlers[name.toLowerCase()] || []).push(handler); },
  };
  // Initialisation completes after the provider's page has parsed, so its CIFInitDone listener is in place.
  const initDone = () => window.dispatchEvent(new CustomEvent("CIFInitDone", { detail: allowedDomains }));
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initDone);
  else setTimeout(initDone, 0);
})();
