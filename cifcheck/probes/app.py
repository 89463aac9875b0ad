"""Which app loaded, as the page itself says: the URL parameters and the Xrm global context."""

from __future__ import annotations

from playwright.sync_api import Page

from cifcheck.evidence import AppInfo
from cifcheck.redact import redact_text

ANSWER_MS = 3_000  # how long the app's own getCurrentAppProperties() may take to answer

# The app's promise races a timer: an app that never answers must not hold the run (the URL still tells the app).
_READ_APP = """async ([sessionTabSelector, answerMs]) => {
  const params = new URLSearchParams(location.search);
  const info = { xrm_present: typeof Xrm !== "undefined", url_app_id: params.get("appid"),
                 url_app_name: params.get("appname") };
  try { info.session_tabs = document.querySelectorAll(sessionTabSelector).length; }
  catch (e) { info.session_tabs = null; }
  if (!info.xrm_present) return info;
  const context = Xrm.Utility && Xrm.Utility.getGlobalContext && Xrm.Utility.getGlobalContext();
  if (!context) return info;
  info.client_url = context.getClientUrl ? context.getClientUrl() : null;
  info.user_name = context.userSettings ? context.userSettings.userName : null;
  if (context.getCurrentAppProperties) {
    const app = await Promise.race([
      context.getCurrentAppProperties(), new Promise((done) => setTimeout(() => done(null), answerMs))]);
    if (!app) return info;
    info.app_id = app.appId || null;
    info.app_unique_name = app.uniqueName || null;
    info.app_display_name = app.displayName || null;
  }
  return info;
}"""


def read_app(page: Page, session_tab_selector: str) -> AppInfo:
    info = page.evaluate(_READ_APP, [session_tab_selector, ANSWER_MS])
    text = {k: redact_text(v) if isinstance(v, str) else v for k, v in info.items()}
    return AppInfo.model_validate(text)
