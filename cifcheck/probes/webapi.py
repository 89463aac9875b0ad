"""cifcheck's own Dataverse Web API reads, out of the page's reach.

The reads go through the browser context's request API (Playwright's APIRequestContext). It sends the context's
cookies, so the signed-in session authenticates them, but it runs in Playwright's driver, not in the page: no page
script (a wrapped fetch, XMLHttpRequest or JSON.parse) can change a request or fake its answer.

Every read keeps these rules:
- only to the org: the page's origin is used only when its host is the org's (the configured org URL is the
  authority), and every URL, next-page links included, must stay on that origin under the Web API path;
- only GET, and no redirect is followed (a Web API redirect means a sign-in page, which is not the org);
- each request has its own time limit, all of them share one, and a listing stops after a number of pages;
- an error status or an answer that is not a JSON object is reported with cifcheck's own short message, never with
  the answer's body (an org can put anything in it, secrets included).
Every request made is recorded, with its method, redacted URL, status, duration and error.

A host under .localhost (the sandbox org) is loopback by definition (RFC 6761). Chromium resolves such names itself;
Playwright's driver asks the system resolver, which often does not know them. A read of such a host connects to
127.0.0.1 instead, with the host in the Host header and the context's cookies for the org URL.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urljoin, urlsplit

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cifcheck.evidence import WebApiRequest
from cifcheck.redact import redact_text, redact_url, redact_values
from cifcheck.signin import is_loopback

API_PATH = "/api/data/v9.2/"
# An entity set, function or record path relative to API_PATH: WhoAmI, msdyn_ciproviders, systemusers(<id>).
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(\([A-Za-z0-9_.,'=-]*\))?")
ERROR_TEXT_MAX = 160


@dataclass(frozen=True)
class Limits:
    page_size: int = 100  # Prefer: odata.maxpagesize
    max_pages: int = 20  # per listing: a table larger than page_size * max_pages is an error, not a partial answer
    request_timeout_ms: int = 15_000
    total_ms: int = 30_000  # every request of one WebApi together
    # A page of 100 provider records is tens of kB; an answer this large is not one cifcheck asked for.
    max_body_bytes: int = 20_000_000


class ReadError(Exception):
    """A read that did not succeed. Its message is cifcheck's own, short and fixed: never the org's answer."""


def _origin(url: str) -> tuple[str, str] | None:
    """(origin, host) of an http(s) URL, lower-cased and without a default port; None for anything else. Built from
    the parsed parts only, so nothing else in the URL (user info, path) can choose where the cookies go."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port and port != {"http": 80, "https": 443}[parts.scheme]:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}", host


def org_origin(page_url: str, org_hosts: Sequence[str]) -> str | None:
    """The origin of `page_url` when its host is one of the org's, else None. Off this machine only https on the
    default port counts, as Dynamics 365 serves it: a page that moved to `http://<org host>:8080` is not read from,
    since the context's cookies for the org's host would go there in plain text."""
    origin = _origin(page_url)
    if origin is None or origin[1] not in org_hosts:
        return None
    if not is_loopback(origin[1]) and origin[0] != f"https://{origin[1]}":
        return None
    return origin[0]


def _name(path: str) -> str:
    """The table or function a path reads, to name it in errors: msdyn_ciproviders, WhoAmI, systemusers."""
    return path.split("?", 1)[0].split("(", 1)[0]


class WebApi:
    """GETs to one org's Web API through a context's request API; `requests` lists every request made."""

    def __init__(self, context: BrowserContext, origin: str, limits: Limits | None = None) -> None:
        self._context = context
        self.origin = origin
        self.limits = limits or Limits()
        self.requests: list[WebApiRequest] = []
        self._deadline = time.monotonic() + self.limits.total_ms / 1000

    @classmethod
    def for_page(cls, page: Page, org_hosts: Sequence[str], limits: Limits | None = None) -> WebApi:
        """The Web API of the org `page` shows, read with the page's browser context (its cookies)."""
        origin = org_origin(page.url, org_hosts)
        if origin is None:
            shown = redact_url(page.url.split("?", 1)[0])[:ERROR_TEXT_MAX]
            raise ReadError(f"the page ({shown}) is not on the org's host ({', '.join(org_hosts)}); not read")
        return cls(page.context, origin, limits)

    def get(self, path: str, query: Mapping[str, str] | None = None) -> dict:
        """One JSON object: a function's answer (WhoAmI) or one record."""
        return self._get(self._url(path, query), _name(path))

    def records(self, entity_set: str, select: Sequence[str], query: Mapping[str, str] | None = None) -> list[dict]:
        """Every record of `entity_set` with only the `select` fields (values redacted), page after page."""
        url = self._url(entity_set, {"$select": ",".join(select), **(query or {})})
        records: list[dict] = []
        for _ in range(self.limits.max_pages):
            answer = self._get(url, entity_set)
            page = answer.get("value")
            if not isinstance(page, list) or not all(isinstance(record, dict) for record in page):
                raise self._failed(f"the answer for {entity_set} holds no list of records")
            # Dataverse adds the record id and @odata.etag to a $select: only what was asked for is kept.
            records += [{field: redact_values(r[field]) for field in select if field in r} for r in page]
            next_link = answer.get("@odata.nextLink")
            if next_link is None:
                return records
            # A backslash is a path separator to the request API (WHATWG) but not to urlsplit: refused, so that
            # both read the same host.
            url = urljoin(url, next_link) if isinstance(next_link, str) and "\\" not in next_link else ""
            if not self._on_org(url):
                raise self._failed(f"the next page of {entity_set} is not on the org's Web API; not followed")
        raise self._failed(
            f"{entity_set} has more than {self.limits.max_pages} pages of {self.limits.page_size} records; "
            "not read whole"
        )

    def _url(self, path: str, query: Mapping[str, str] | None) -> str:
        if not _PATH.fullmatch(path):
            raise ValueError(f"not a Web API path: {path!r}")  # a programming error, not the org's
        text = urlencode(query, quote_via=quote, safe="$,()'") if query else ""
        return f"{self.origin}{API_PATH}{path}" + (f"?{text}" if text else "")

    def _on_org(self, url: str) -> bool:
        origin = _origin(url)
        return origin is not None and origin[0] == self.origin and urlsplit(url).path.startswith(API_PATH)

    def _failed(self, message: str) -> ReadError:
        """A ReadError for the latest request, recorded on it too."""
        if self.requests and self.requests[-1].error is None:
            self.requests[-1].error = message
        return ReadError(message)

    def _get(self, url: str, name: str) -> dict:
        remaining_ms = (self._deadline - time.monotonic()) * 1000
        if remaining_ms < 1:
            raise ReadError(f"{name} not read: the Web API reads' time limit ({self.limits.total_ms:,} ms) was reached")
        timeout_ms = min(self.limits.request_timeout_ms, remaining_ms)
        record = WebApiRequest(method="GET", url=redact_url(url))
        self.requests.append(record)
        headers = {
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "If-None-Match": "null",  # Dataverse's way to ask for the current data, never a 304
            "Prefer": f"odata.maxpagesize={self.limits.page_size}",
        }
        started = time.monotonic()
        try:
            target, headers = self._loopback(url, headers)
            response = self._context.request.get(
                target,
                headers=headers,
                timeout=timeout_ms,
                max_redirects=0,
                fail_on_status_code=False,
            )
            try:
                status = record.status = response.status
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > self.limits.max_body_bytes:
                    raise self._failed(f"the answer for {name} is larger than {self.limits.max_body_bytes:,} bytes")
                body = response.body()
                if len(body) > self.limits.max_body_bytes:
                    raise self._failed(f"the answer for {name} is larger than {self.limits.max_body_bytes:,} bytes")
            finally:
                response.dispose()  # frees the body kept in the driver
        except PlaywrightTimeoutError:
            raise self._failed(f"no answer for {name} within {timeout_ms:,.0f} ms") from None
        except PlaywrightError as error:
            # Only the first line: the call log after it lists the request's headers, the session cookie among them.
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            why = redact_text(first_line.removeprefix("APIRequestContext.get: "))[:ERROR_TEXT_MAX]
            raise self._failed(f"the request for {name} failed: {why}") from None
        finally:
            record.duration_ms = round((time.monotonic() - started) * 1000, 1)
        return self._answer(status, body, name)

    def _loopback(self, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Where to connect for `url`, and the headers to send: a .localhost host is reached at 127.0.0.1."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not host.endswith(".localhost"):
            return url, headers
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self._context.cookies(url))
        loopback = parts._replace(netloc="127.0.0.1" + (f":{parts.port}" if parts.port else "")).geturl()
        # Always our own Cookie header, empty too: without one the request API adds the cookies it holds for
        # 127.0.0.1, another local app's.
        return loopback, {**headers, "Host": parts.netloc, "Cookie": cookies}

    def _answer(self, status: int, body: bytes, name: str) -> dict:
        if status in (401, 403):
            raise self._failed(f"HTTP {status}: {name} was refused (signed out, or the user may not read {name})")
        if 300 <= status < 400:
            raise self._failed(f"HTTP {status}: the read of {name} was redirected (not followed; signed out?)")
        if not 200 <= status < 300:
            raise self._failed(f"HTTP {status} for {name}")
        try:
            answer = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise self._failed(f"answer is not JSON ({name}, HTTP {status})") from None
        if not isinstance(answer, dict):
            raise self._failed(f"answer is not a JSON object ({name}, HTTP {status})")
        return answer
