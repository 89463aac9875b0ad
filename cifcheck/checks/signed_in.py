"""session.signed_in: the target app loaded in a signed-in session, not a sign-in page."""

from __future__ import annotations

from urllib.parse import urlsplit

from cifcheck.checks.fixes import (
    SANDBOX_ACCOUNT,
    config_in_use,
    is_sandbox,
    org_failure,
    sandbox_sign_in,
    sign_in_again,
)
from cifcheck.checks.registry import Verdict, check
from cifcheck.evidence import Evidence
from cifcheck.results import Detail

SAVED_SESSION_UNUSABLE = "could not be loaded"  # runner.SavedSessionError's words
# runner.BROWSER_CLOSED, and Playwright's words for a page whose browser went away during the load.
BROWSER_GONE = ("the browser closed during the run", "Target page, context or browser has been closed")
NO_BROWSER_SERVER = "no browser server could take this target"  # runner: every one of browser.endpoints was down
CIFCHECK_FAILED = "cifcheck itself failed on this target"  # runner: an unexpected exception while gathering
BROWSER_UNANSWERED = "the browser stopped answering"  # runner: a target held past its timeouts (target_deadline_s)


def _session_fix(evidence: Evidence) -> str:
    """How to get a working session again: for a sandbox target, why there is nothing to sign in to."""
    if is_sandbox(evidence):
        return sandbox_sign_in(evidence)
    return (
        f"Sign in once: {sign_in_again(evidence)}. For unattended runs, configure credentials (auth.credentials in "
        f"{config_in_use(evidence)}) so cifcheck can sign in itself."
    )


def _not_opened(evidence: Evidence, error: str, facts: Detail) -> Verdict:
    """The org could not be opened: unreachable, unavailable, refusing the app page, or a saved session unusable."""
    config = config_in_use(evidence)
    reason = f"The org could not be opened: {error}"
    if any(words in error for words in BROWSER_GONE):
        return Verdict(
            "error",
            reason,
            [facts],
            "The browser closed during the run (it crashed, ran out of memory or was closed by hand) before this "
            "target was judged: re-run it; if that happens again, `cifcheck doctor` checks the browser.",
            "The browser closed during the run",
        )
    if CIFCHECK_FAILED in error:
        return Verdict(
            "error",
            reason,
            [facts],
            "This is a cifcheck bug, not the org's: re-run the target (`cifcheck run --target NAME`), and report it "
            "with this target's evidence file if it happens again.",
            "cifcheck failed on this target",
        )
    if BROWSER_UNANSWERED in error:
        return Verdict(
            "error",
            reason,
            [facts],
            "The browser (or its browser server) stopped answering in the middle of this target, long past every "
            "timeout: a machine that hung or a network that drops packets without closing the connection. Check the "
            "browser server's machine and the network to it, then re-run the target.",
            "The browser stopped answering",
        )
    if NO_BROWSER_SERVER in error:
        return Verdict(
            "error",
            reason,
            [facts],
            f"Start the browser servers listed in browser.endpoints of {config} (`playwright run-server --port N`, "
            "with the same Playwright major.minor as cifcheck's) or fix the network to them, then re-run.",
            "No browser server could take this target",
        )
    if SAVED_SESSION_UNUSABLE in error:
        return Verdict("error", reason, [facts], _session_fix(evidence), "Not signed in: the saved session is unusable")
    failure = org_failure(error, evidence.navigation.requested_url or evidence.target.url, config)
    if failure is not None:
        return Verdict("error", reason, [facts], failure.fix, failure.title)
    if "errorhandler.aspx" in error:
        return Verdict(
            "error",
            reason,
            [facts],
            "Unified Interface showed its own error page instead of the app. Open the app URL by hand, signed in as "
            "the same user, to read the error it shows (often an app that does not exist in this org, or a "
            "privilege the user's security role lacks).",
            "The org showed its error page",
        )
    if "HTTP 4" in error:
        return Verdict(
            "error",
            reason,
            [facts],
            f"The org refused the app page. Check that targets[].url in {config} is the org's root URL and that "
            f"targets[].app names an app of this org ({evidence.target.app}); with 401 or 403, that the user's "
            "security role grants access to the app.",
            "The org refused the app page",
        )
    return Verdict(
        "error",
        reason,
        [facts],
        f"Check the org URL in {config} and the network, VPN or proxy to the org, then re-run.",
        "The org could not be opened",
    )


@check(
    id="session.signed_in",
    title="Signed in: the app opened in a logged-in session",
    failure_title="Not signed in: the app did not open in a logged-in session",
    remediation="Open the app URL by hand to see what the org shows, then re-run.",
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
        return _not_opened(evidence, navigation.error, facts)
    attempt = navigation.sign_in
    if attempt is not None:
        facts.facts["Unattended sign-in"] = ", ".join(attempt.steps) or "nothing answered"
    if navigation.sign_in_page and attempt is not None and attempt.unexpected_host:
        return Verdict(
            "error",
            f"Unattended sign-in stopped at the {attempt.stopped_at} step: {attempt.message}.",
            [facts],
            remediation=f"Find out why the org sends its sign-in to {attempt.unexpected_host}. If that really is "
            f"your identity provider, add its host to sign_in.credential_hosts in {config_in_use(evidence)} (it must "
            "serve its pages over https)" + ("." if is_sandbox(evidence) else f"; or {sign_in_again(evidence)}."),
        )
    if navigation.sign_in_page and attempt is not None and not attempt.succeeded:
        return Verdict(
            "error",
            f"Unattended sign-in stopped at the {attempt.stopped_at} step: {attempt.message}.",
            [facts],
            remediation=_credentials_fix(evidence),
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
            "or expired.",
            [facts],
            remediation=_session_fix(evidence),
        )
    if not navigation.app_ready:
        return Verdict(
            "error",
            f"The app shell never became ready; the page stayed at {navigation.final_url} ({navigation.title!r}).",
            [facts],
            remediation="Open the URL by hand to see what the org shows; raise timeouts.ready_ms for a slow org, or "
            f"override selectors.app_ready if the app's readiness signal changed (both in {config_in_use(evidence)}).",
            title="The app never became ready",
        )
    user = evidence.app.user_name if evidence.app and evidence.app.user_name else "an unnamed user"
    how = " (signed in unattended)" if attempt is not None and attempt.succeeded else ""
    return Verdict("pass", f"The app opened signed in as {user}{how}.", [facts])


def _credentials_fix(evidence: Evidence) -> str:
    if is_sandbox(evidence):
        return (
            "Check the credentials this sandbox target names (its credentials field): the sandbox's test accounts "
            f"are {SANDBOX_ACCOUNT}, and mfa@ or push@contoso.sandbox with the same password."
        )
    return (
        "Check the credentials (the environment variables or the credentials file named in auth.credentials of "
        f"{config_in_use(evidence)}), or {sign_in_again(evidence)}."
    )
