// Added to every frame before the page's own scripts: it only listens. It notes CIFInitDone (in a widget)
// and the CIF postMessage traffic a window receives, so cifcheck knows when the widget and host are done.
// Each change is also reported through a binding, so cifcheck follows hundreds of provider frames without
// asking each of them on every look.
(binding) => {
  if (window.__cifcheck) return;
  const state = { initDone: null, messages: [], pendingUntil: null };
  Object.defineProperty(window, "__cifcheck", { value: state, enumerable: false });
  // A time limit for cifcheck's reads that await the page's own promises. Made from the timer and promise
  // functions as they are before any page script runs, and not replaceable (a property that is neither writable
  // nor configurable), so that a page overriding setTimeout or Promise cannot make a read wait forever.
  const apply = Reflect.apply, timer = window.setTimeout, IntrinsicPromise = Promise;
  const then = Promise.prototype.then, resolve = Promise.resolve;
  const within = (promise, ms, fallback) => new IntrinsicPromise((done) => {
    apply(timer, window, [() => done(fallback), ms]);
    try {
      apply(then, apply(resolve, IntrinsicPromise, [promise]), [done, () => done(fallback)]);
    } catch (error) { done(fallback); }
  });
  Object.defineProperty(window, "__cifcheckWithin", { value: within, enumerable: false });
  const report = () => {
    try {
      if (typeof window[binding] === "function") {
        window[binding]({ initDone: state.initDone, messages: state.messages, pendingUntil: state.pendingUntil });
      }
    } catch (error) {} // reporting must never break the page
  };
  // In frames (where providers run, never the app's own top document): one-shot timers due soon are work still
  // scheduled, such as a provider's follow-up setMode a few seconds after init. Timers that re-arm themselves
  // from their own callback are the page's background; so are very short and very long ones.
  if (window !== window.top) {
    const SOONEST_MS = 50, LATEST_MS = 10000;
    const pending = new Map();
    const realSetTimeout = window.setTimeout, realClearTimeout = window.clearTimeout;
    let running = null;
    let latest = null; // the latest due time, kept as timers come and go: a page may hold thousands of them
    const changed = () => {
      const until = latest === null ? null : performance.timeOrigin + latest;
      if (until !== state.pendingUntil) {
        state.pendingUntil = until;
        report();
      }
    };
    const forget = (id) => {
      const due = pending.get(id);
      if (due === undefined) return false;
      pending.delete(id);
      if (due === latest) {
        latest = null;
        for (const other of pending.values()) if (latest === null || other > latest) latest = other;
      }
      return true;
    };
    window.setTimeout = function (callback, delay, ...rest) {
      if (typeof callback !== "function") return realSetTimeout.call(window, callback, delay, ...rest);
      const ms = Number(delay) || 0;
      const tracked = running !== callback && ms >= SOONEST_MS && ms <= LATEST_MS;
      let id;
      const fire = function (...args) {
        forget(id);
        const outer = running;
        running = callback;
        try { return callback.apply(this, args); } finally { running = outer; changed(); }
      };
      id = realSetTimeout.call(window, fire, delay, ...rest);
      if (tracked) {
        const due = performance.now() + ms;
        pending.set(id, due);
        if (latest === null || due > latest) latest = due;
        changed();
      }
      return id;
    };
    window.clearTimeout = function (id) {
      if (forget(id)) changed();
      return realClearTimeout.call(window, id);
    };
  }
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
