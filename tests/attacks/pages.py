"""The hostile org's pages and scripts. Each reads what it shows from a JSON boot block, so hostile_org.py decides
every value and these stay plain: an app shell with Xrm, a CIF host library that builds the communication panel and
answers widgets, a widget container, provider pages, an Entra-shaped sign-in page."""

from __future__ import annotations

import html
import json


def boot_block(data: object) -> str:
    """`data` as a JSON script block; `<` escaped so no value can end the block."""
    text = json.dumps(data).replace("<", "\\u003c")
    return f'<script id="boot" type="application/json">{text}</script>'


# Every value below comes from the boot block. `{cookie:NAME}` in a text is replaced by the cookie as
# document.cookie has it (`NAME=value`), `{cookie-value:NAME}` by its value alone: the page echoes its own cookies.
APP_JS = r"""(function () {
  "use strict";
  const boot = JSON.parse(document.getElementById("boot").textContent);
  window.__hostileBoot = boot;
  const cookie = (name) => document.cookie.split("; ").find((pair) => pair.startsWith(name + "=")) || "";
  const echo = (text) => text
    .replace(/\{cookie:([^}]+)\}/g, (_, name) => cookie(name))
    .replace(/\{cookie-value:([^}]+)\}/g, (_, name) => cookie(name).slice(name.length + 1));
  const add = (tag, url, hidden) => {
    const element = document.createElement(tag);
    element.src = url;
    if (hidden) element.hidden = true;
    (tag === "script" ? document.head : document.body).appendChild(element);
  };
  if (boot.url) history.replaceState(null, "", boot.url);
  document.title = echo(boot.title);
  for (const [key, value] of Object.entries(boot.storage)) sessionStorage.setItem(echo(key), echo(value));
  for (const url of boot.scripts) add("script", url);
  for (const url of boot.frames) add("iframe", url, true);
  for (const url of boot.images) new Image().src = url;
  for (const url of boot.fetches) fetch(url).catch(() => {});
  for (const url of boot.xhrs) { const request = new XMLHttpRequest(); request.open("GET", url); request.send(); }
  for (const [level, text] of boot.console) {
    if (level === "assert") console.assert(false, echo(text));
    else console[level](echo(text));
  }
  for (const text of boot.errors) setTimeout(() => { throw new Error(echo(text)); }, 0);
  const app = boot.app;
  window.Xrm = {
    Panel: { state: 1 },
    Utility: {
      getGlobalContext: () => ({
        getClientUrl: () => app.clientUrl,
        getVersion: () => "9.2.25113.00000",
        userSettings: { userId: "{" + app.userId + "}", userName: app.userName },
        getCurrentAppProperties: () => Promise.resolve({
          appId: app.appId, uniqueName: app.uniqueName, displayName: app.displayName }),
      }),
    },
  };
  add("script", boot.library);
})();
"""

# The CIF host library: the panel frame, and an answer to every widget message (as the boot block says).
LIBRARY_JS = r"""(function () {
  "use strict";
  const boot = window.__hostileBoot;
  window.Microsoft = { CIFramework: { Internal: { version: "2.0" } } };
  window.addEventListener("message", (event) => {
    const message = event.data;
    if (!message || typeof message !== "object" || !message.messageType) return;
    const answer = boot.answers[message.messageCorrelationId] || { outcome: "success", data: null };
    event.source.postMessage({ messageOutcome: answer.outcome, messageData: answer.data,
                               messageCorrelationId: message.messageCorrelationId }, "*");
  });
  const frame = document.createElement("iframe");
  frame.id = frame.title = frame.name = "SidePanelIFrame";
  frame.src = boot.panelUrl;
  document.getElementById("panelHost").appendChild(frame);
})();
"""

CONTAINER_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>widgets_container</title>
<style>html, body { margin: 0; height: 100%; } iframe { border: 0; width: 100%; height: 100%; }
#widgetControlDiv, #widgetControlDiv > div { position: absolute; inset: 0; }</style></head>
<body><div id="widgetControlDiv"></div>
<script>
  const panels = document.getElementById("widgetControlDiv");
  parent.__hostileBoot.providers.forEach((provider, index) => {
    const panel = document.createElement("div");
    panel.id = provider.id;
    panel.setAttribute("role", "tabpanel");
    panel.hidden = index > 0;
    const frame = document.createElement("iframe");
    frame.title = provider.title;
    frame.src = provider.src;
    frame.setAttribute("allow", "microphone; camera; geolocation");
    panel.appendChild(frame);
    panels.appendChild(panel);
  });
</script></body></html>
"""

# The widget-side library: CIFInitDone, with the detail the provider page asks for.
CI_LIBRARY_JS = r"""(function () {
  const detail = (window.__provider && window.__provider.initDetail) || [];
  const done = () => window.dispatchEvent(new CustomEvent("CIFInitDone", { detail }));
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", done);
  else setTimeout(done, 0);
})();
"""

LOGGING_JS = 'console.error("CIF telemetry: the script that logs this has a secret in its own URL");\n'


def app_shell(boot: dict) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboards</title>
<style>html, body {{ margin: 0; height: 100%; font: 14px system-ui, sans-serif; }}
#panelHost {{ position: fixed; left: 48px; top: 48px; width: 378px; bottom: 0; }}
#panelHost iframe {{ border: 0; width: 100%; height: 100%; }}</style>
{boot_block(boot)}</head>
<body><ul><li id="sessionContainer-session-id-0" aria-selected="true">Home</li></ul><div id="panelHost"></div>
<script src="{html.escape(boot["appScript"])}"></script></body></html>
"""


def provider_page(boot: dict, library_url: str | None) -> str:
    """A channel provider's page: rewrites its own URL, then after CIFInitDone posts its messages and logs."""
    library = f'<script src="{html.escape(library_url)}"></script>' if library_url else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Provider</title>{boot_block(boot)}
<script>
  const provider = JSON.parse(document.getElementById("boot").textContent);
  window.__provider = provider;
  if (provider.append) history.replaceState(null, "", location.href.split("#")[0] + provider.append);
  window.addEventListener("CIFInitDone", () => {{
    for (const message of provider.messages) window.top.postMessage(message, "*");
    for (const text of provider.console) console.error(text);
  }});
</script>{library}</head><body><h1>Softphone</h1></body></html>
"""


def sign_in_page(step: str, error: str = "", title: str = "", console: tuple[str, ...] = ()) -> str:
    """An Entra-shaped sign-in step (the selectors cifcheck answers by default): account, or password."""
    field = (
        '<input name="loginfmt" type="email" aria-label="Email">'
        if step == "account"
        else '<input name="passwd" type="password" aria-label="Password">'
    )
    alert = f'<div id="passwordError" role="alert">{html.escape(error)}</div>' if error else ""
    logs = "".join(f"console.error({_js_string(text)});" for text in console)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title or "Sign in to your account")}</title></head>
<body><form method="post" action="/common/login">{alert}{field}
<input type="submit" id="idSIButton9" value="{"Next" if step == "account" else "Sign in"}"></form>
<script>{logs}</script></body></html>
"""


def throwing_shell(boot: dict) -> str:
    """An app whose reads throw: Xrm.Panel, getClientUrl, and the built-ins cifcheck's page reads call."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Dashboards</title>{boot_block(boot)}
<script>
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const fail = (text) => {{ throw new Error(text); }};
  window.Xrm = {{
    get Panel() {{ return fail(boot.panel); }},
    Utility: {{ getGlobalContext: () => ({{ getClientUrl: () => fail(boot.app), userSettings: {{}} }}) }},
  }};
  Object.fromEntries = () => fail(boot.storage);
  Promise.all = () => fail(boot.dataverse);
</script></head><body>Dashboards</body></html>
"""


def error_page(title: str, console: str) -> str:
    log = _js_string(console)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body><h1>Something went wrong</h1><script>console.error({log});</script></body></html>
"""


def _js_string(text: str) -> str:
    """`text` as a JavaScript string literal that cannot end its script element."""
    return json.dumps(text).replace("<", "\\u003c")
