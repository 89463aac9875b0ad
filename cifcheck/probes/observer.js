// Added to every frame before the page's own scripts: it only listens. It notes CIFInitDone (in a widget)
// and the CIF postMessage traffic a window receives, so cifcheck knows when the widget and host are done.
// Each change is also reported through a binding, so cifcheck follows hundreds of provider frames without
// asking each of them on every look.
(binding) => {
  if (window.__cifcheck) return;
  const state = { initDone: null, messages: [] };
  Object.defineProperty(window, "__cifcheck", { value: state, enumerable: false });
  const report = () => {
    try {
      if (typeof window[binding] === "function") {
        window[binding]({ initDone: state.initDone, messages: state.messages });
      }
    } catch (error) {} // reporting must never break the page
  };
  window.addEventListener("CIFInitDone", (event) => {
    const detail = Array.isArray(event.detail) ? event.detail.map(String) : [];
    state.initDone = { at: performance.now(), detail };
    report();
  });
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!data || typeof data !== "object" || state.messages.length >= 200) return;
    if (!("messageType" in data) && !("messageOutcome" in data)) return;
    const payload = data.messageData;
    state.messages.push({
      at_ms: performance.now(),
      origin: String(event.origin),
      type: typeof data.messageType === "string" ? data.messageType : null,
      outcome: typeof data.messageOutcome === "string" ? data.messageOutcome : null,
      value: typeof payload === "number" ? payload
        : payload && typeof payload === "object" && "value" in payload ? payload.value : null,
      correlation: typeof data.messageCorrelationId === "string" ? data.messageCorrelationId : null,
      text: typeof payload === "string" ? payload.slice(0, 500) : null,
    });
    report();
  }, true);
}
