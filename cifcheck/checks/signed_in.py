"""session.signed_in: the target app loaded in a signed-in session, not a sign-in page."""

from __future__ import annotations

from urllib.parse import urlsplit

from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.results import Detail


def login_hint(evidence: Evidence) -> str:
    if evidence.browser.source.startswith("CDP"):
        return "sign in again in the browser cifcheck attached to, then re-run"
    return (
        f"run `cifcheck login --target {evidence.target.name}` (with the same --config, if you gave one) to sign "
        "in again, then re-run"
    )


@check(
    id="session.signed_in",
    title="Signed in: the app opened in a logged-in session",
    failure_title="Not signed in: the app did not open in a logged-in session",
    remediation="Sign in to the org once with `cifcheck login`, then re-run.",
    checked="Opens the app URL and waits for the app shell; a landing on a sign-in host, an unreachable org or a "
    "shell that never becomes ready is caught here.",
    doc_step="Before you begin: sign in to the app as an agent assigned to the app profile",
)
def judge(evidence: Evidence) -> Verdict:
    navigation = evidence.navigation
    facts = Detail(
        kind="facts",
        title="Navigation",
        facts={
            "Opened": navigation.requested_url,
            "Landed on": navigation.final_url,
            "HTTP status": navigation.status,
            "Page title": navigation.title,
            "App ready after (ms)": navigation.ready_ms,
        },
    )
    if navigation.error:
        return Verdict(
            "error",
            f"The org could not be opened: {navigation.error}",
            [facts],
            remediation="Check the org URL in playwright.config.json, your network or VPN, and that the org is "
            f"up; if the session expired, {login_hint(evidence)}.",
        )
    attempt = navigation.sign_in
    if attempt is not None:
        facts.facts["Unattended sign-in"] = ", ".join(attempt.steps) or "nothing answered"
    if navigation.sign_in_page and attempt is not None and attempt.unexpected_host:
        return Verdict(
            "error",
            f"Unattended sign-in stopped at the {attempt.stopped_at} step: {attempt.message}.",
            [facts],
            remediation=f"Find out why the org sends its sign-in to {attempt.unexpected_host}. If that really is "
            "your identity provider, add its host to sign_in.credential_hosts (it must serve its pages over https); "
            f"or {login_hint(evidence)}.",
        )
    if navigation.sign_in_page and attempt is not None and not attempt.succeeded:
        return Verdict(
            "error",
            f"Unattended sign-in stopped at the {attempt.stopped_at} step: {attempt.message}.",
            [facts],
            remediation="Check the credentials (environment variables or the credentials file named in "
            f"auth.credentials), or {login_hint(evidence)}.",
        )
    if navigation.sign_in_page:
        host = urlsplit(navigation.final_url).hostname or navigation.final_url
        how = (
            f" (recognised by {navigation.sign_in_recognised_by}; {host} is not in sign_in.credential_hosts, so "
            "unattended sign-in does not answer it)"
            if navigation.sign_in_recognised_by
            else ""
        )
        return Verdict(
            "error",
            f"The browser landed on the sign-in page at {host}{how} instead of the app: the saved session is absent "
            f"or expired; {login_hint(evidence)}.",
            [facts],
            remediation=f"Sign in once: {login_hint(evidence)}. For unattended runs, configure credentials "
            "(auth.credentials) so cifcheck can sign in itself.",
        )
    if not navigation.app_ready:
        return Verdict(
            "error",
            f"The app shell never became ready; the page stayed at {navigation.final_url} ({navigation.title!r}).",
            [facts],
            remediation="Open the URL by hand to see what the org shows; raise timeouts.ready_ms for a slow org, or "
            "override selectors.app_ready if the app's readiness signal changed.",
        )
    user = evidence.app.user_name if evidence.app and evidence.app.user_name else "an unnamed user"
    how = " (signed in unattended)" if attempt is not None and attempt.succeeded else ""
    return Verdict("pass", f"The app opened signed in as {user}{how}.", [facts])
