// The CIF 1.0 host library (CRMClients/msdyn_internal_ci_library.js), left active beside CIF 2.0.
(function () {
  "use strict";
  window.Microsoft = window.Microsoft || {};
  Microsoft.CIFrameworkV1 = { Internal: { version: "1.0" } };
  window.__sandbox.timeline.push({ event: "cif1-library-running", detail: null, at: performance.now() });
})();
