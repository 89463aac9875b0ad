"""Which app loaded, as the page itself says: the URL parameters and the Xrm global context."""

from __future__ import annotations

from playwright.sync_api import Page

from cifcheck.evidence import AppInfo

APP_PROPERTIES_MS = 3_000

_READ_APP = """async ([sessionTabSelector, limitMs]) => {
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
    // The page's own promise may never settle: the read has a time limit (observer.js's __cifcheckWithin).
    const asked = context.getCurrentAppProperties();
    const app = (await (window.__cifcheckWithin ? window.__cifcheckWithin(asked, limitMs, {}) : asked)) || {};
    info.app_id = app.appId || null;
    info.app_unique_name = app.uniqueName || null;
    info.app_display_name = app.displayName || null;
  }
  return info;
}"""


def read_app(page: Page, session_tab_selector: str) -> AppInfo:
    return AppInfo.model_validate(page.evaluate(_READ_APP, [session_tab_selector, APP_PROPERTIES_MS]))
