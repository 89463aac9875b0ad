// Added to every document; acts only in the top frame of a sign-in host or, when the org's host names are given,
// of any web page on another host (another identity provider's sign-in page is known by what it shows, not by
// where it is). It reports which sign-in step the page shows, and its title, through a binding: once the page is
// first drawn, and again whenever that changes (Entra and Okta draw their forms by script). Asking the page
// instead waits until the browser has finished putting it up.
(stepShown, selectors, hostPatterns, orgHosts, binding) => {
  const host = location.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1"); // IPv6 without brackets, as Python
  const onSignInHost = hostPatterns.some((p) => new RegExp(p, "i").test(host));
  const offOrg = orgHosts.length > 0 && /^https?:$/.test(location.protocol) && !orgHosts.includes(host);
  if (window !== window.top || !(onSignInHost || offOrg)) return;
  const navigationApi = window.navigation; // taken now: the page's own scripts may reuse the global's name
  let last = null;
  let pending = false;
  const report = () => {
    pending = false;
    try {
      const look = { step: stepShown(selectors), title: document.title, url: location.href };
      const key = JSON.stringify(look);
      look.origin = performance.timeOrigin; // tells this document from the ones before it in the tab
      if (key === last || typeof window[binding] !== "function") return;
      last = key;
      window[binding](look);
    } catch (error) {} // a selector the browser rejects must not break the page; the wait falls back to time
  };
  // Look just before the next frame is drawn: by then the style sheets that decide what is visible apply, which
  // DOMContentLoaded does not wait for. A tab in the background draws no frames: there, a timer looks instead.
  // Changes come in bursts; one look per frame is enough.
  const soon = () => {
    if (pending) return;
    pending = true;
    const once = () => pending && report();
    if (document.visibilityState === "hidden") setTimeout(once, 100);
    else requestAnimationFrame(once);
  };
  const start = () => {
    new MutationObserver(soon).observe(document, { childList: true, subtree: true, attributes: true });
    // Style sheets and scripts that finish loading change what is shown without changing the DOM.
    document.addEventListener("load", soon, true);
    document.addEventListener("error", soon, true);
    addEventListener("load", soon);
    // A new URL in the same document (history.pushState) makes cifcheck forget the last look: tell it again.
    navigationApi?.addEventListener("currententrychange", () => { last = null; soon(); });
    // A tab hidden while a frame is awaited draws none: look now.
    document.addEventListener("visibilitychange", () => pending && report());
    // With every style sheet in already, what is visible is known now.
    const sheetsLoaded = [...document.querySelectorAll("link[rel~='stylesheet' i]")].every((link) => link.sheet);
    if (sheetsLoaded) report();
    else soon();
  };
  if (document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
}
