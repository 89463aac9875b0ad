// An application extension the sandbox serves for any other script web resource: it only records that it ran.
window.__sandbox.timeline.push({ event: "extension-running", detail: document.currentScript.src, at: performance.now() });
