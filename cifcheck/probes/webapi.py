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
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
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
_DOT_SEGMENT = re.compile(r"(?i)/(\.|%2e){1,2}(/|$)")


@dataclass(frozen=True)
class Limits:
    page_size: int = 500  # Prefer: odata.maxpagesize (Dataverse allows up to 5,000)
    max_pages: int = 100  # per listing: a table larger than page_size * max_pages is an error, not a partial answer
    request_timeout_ms: int = 15_000
    total_ms: int = 60_000  # every request of one WebApi together
    # A page of 500 provider records is a few hundred kB; an answer this large is not one cifcheck asked for.
    max_body_bytes: int = 20_000_000
    # Every answer of one WebApi together: a hundred pages under the limit above would still be held at once.
    max_total_bytes: int = 100_000_000
    # 429 (service protection): the Retry-After the org asks for is honoured up to this long, this many times.
    max_retry_after_s: float = 10.0
    max_throttled_retries: int = 3
    # 5xx: one more try after this pause; a second 5xx is the answer.
    server_error_pause_s: float = 1.0


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


Expand = Mapping[str, Sequence[str]]  # N:N navigation property -> the fields kept of each related record


def _query(select: Sequence[str], expand: Expand | None, query: Mapping[str, str] | None) -> dict[str, str]:
    """$select, $expand (several N:N side by side, none nested, as Dataverse allows) and the rest."""
    built = {"$select": ",".join(select)} if select else {}
    if expand:
        built["$expand"] = ",".join(f"{nav}($select={','.join(fields)})" for nav, fields in expand.items())
    return {**built, **(query or {})}


def _redacted(record: dict) -> dict:
    """A kept record with its values redacted (its field names are the ones asked for, or the org's columns)."""
    return {field: redact_values(value) for field, value in record.items()}


def _columns(record: dict) -> dict:
    """A record read without $select: its columns, without OData annotations."""
    return {field: value for field, value in record.items() if "@" not in field}


def _seconds(retry_after: str) -> float | None:
    """Retry-After in seconds: Dataverse sends a number of seconds; an HTTP date is allowed too."""
    text = retry_after.strip()
    if re.fullmatch(r"\d{1,6}(\.\d+)?", text):
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _no_constant(name: str) -> float:
    """NaN and Infinity are no JSON (RFC 8259): evidence.json would hold them as null, judged otherwise offline."""
    raise ValueError(name)


def _finite(text: str) -> float:
    """A JSON number as a float, when one can hold it (1e400 cannot: Python reads it as infinity)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _name(path: str) -> str:
    """The table or function a path reads, to name it in errors: msdyn_ciproviders, WhoAmI, systemusers."""
    return path.split("?", 1)[0].split("(", 1)[0]


class WebApi:
    """GETs to one org's Web API through a context's request API; `requests` lists every request made."""

    def __init__(
        self,
        context: BrowserContext,
        origin: str,
        limits: Limits | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._context = context
        self.origin = origin
        self.limits = limits or Limits()
        self.requests: list[WebApiRequest] = []
        self._deadline = time.monotonic() + self.limits.total_ms / 1000
        self._bytes = 0  # every answer's body together
        self._sleep = sleep

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

    def record(self, path: str, select: Sequence[str], expand: Expand | None = None) -> dict:
        """One record (`systemusers(<id>)`) with only the `select` fields and the `expand` navigation properties
        (each an N:N collection, followed to its end); values redacted."""
        return _redacted(self.raw_record(path, select, expand))

    def raw_record(self, path: str, select: Sequence[str], expand: Expand | None = None) -> dict:
        """As `record`, with values as the org sent them: for a caller that fingerprints some before redacting."""
        url = self._url(path, _query(select, expand, None))
        return self._kept(self._get(url, _name(path)), select, expand or {}, url, _name(path))

    def records(
        self,
        entity_set: str,
        select: Sequence[str],
        query: Mapping[str, str] | None = None,
        expand: Expand | None = None,
    ) -> list[dict]:
        """Every record of `entity_set` with only the `select` fields (values redacted), page after page."""
        return [_redacted(raw) for raw in self.raw_records(entity_set, select, query, expand)]

    def raw_records(
        self,
        entity_set: str,
        select: Sequence[str],
        query: Mapping[str, str] | None = None,
        expand: Expand | None = None,
    ) -> list[dict]:
        """As `records`, with values as the org sent them: for a caller that fingerprints some before redacting.
        An empty `select` reads every column (for a table whose column names are not published)."""
        url = self._url(entity_set, _query(select, expand, query))
        return [self._kept(record, select, expand or {}, url, entity_set) for record in self._listing(url, entity_set)]

    def _listing(self, url: str, name: str) -> list[dict]:
        """Every record of a collection answer, following @odata.nextLink page after page, as given."""
        records: list[dict] = []
        read = {url}
        for _ in range(self.limits.max_pages):
            answer = self._get(url, name)
            page = answer.get("value")
            if not isinstance(page, list) or not all(isinstance(record, dict) for record in page):
                raise self._failed(f"the answer for {name} holds no list of records")
            records += page
            next_link = answer.get("@odata.nextLink")
            if next_link is None:
                return records
            url = self._next(url, next_link, name)
            if url in read:  # A -> A, or A -> B -> A: the listing would never end, only hit the page cap
                raise self._failed(f"the next page of {name} is a page read already (its next links loop); not read")
            read.add(url)
        raise self._failed(
            f"{name} has more than {self.limits.max_pages} pages of {self.limits.page_size} records; not read whole"
        )

    def _next(self, url: str, next_link: object, name: str) -> str:
        # A backslash is a path separator to the request API (WHATWG) but not to urlsplit: refused, so that both
        # read the same host.
        following = urljoin(url, next_link) if isinstance(next_link, str) and "\\" not in next_link else ""
        if not self._on_org(following):
            raise self._failed(f"the next page of {name} is not on the org's Web API; not followed")
        return following

    def _kept(self, record: dict, select: Sequence[str], expand: Expand, url: str, name: str) -> dict:
        """Only what was asked for: Dataverse adds the record id and @odata annotations to a $select. An expanded
        collection that comes with its own next link (older Dataverse answers a listing's expansions that way,
        empty, and a long one in pages) is read to its end."""
        kept = {field: record[field] for field in select if field in record} if select else _columns(record)
        for navigation, fields in expand.items():
            related = record.get(navigation, [])
            if not isinstance(related, list) or not all(isinstance(item, dict) for item in related):
                raise self._failed(f"the answer for {name} holds no list of {navigation}")
            next_link = record.get(f"{navigation}@odata.nextLink")
            if next_link is not None:
                related = [*related, *self._listing(self._next(url, next_link, navigation), navigation)]
            items = [{field: item[field] for field in fields if field in item} for item in related]
            kept[navigation] = list({json.dumps(item, sort_keys=True): item for item in items}.values())
        return kept

    def _url(self, path: str, query: Mapping[str, str] | None) -> str:
        if not _PATH.fullmatch(path):
            raise ValueError(f"not a Web API path: {path!r}")  # a programming error, not the org's
        text = urlencode(query, quote_via=quote, safe="$,()'=;/:") if query else ""
        return f"{self.origin}{API_PATH}{path}" + (f"?{text}" if text else "")

    def _on_org(self, url: str) -> bool:
        origin = _origin(url)
        if origin is None or origin[0] != self.origin:
            return False
        # The request API resolves dot segments (`.`, `..`, `%2e`) that urlsplit keeps: `/api/data/v9.2/../../x`
        # would read `/x`. A Web API link has none.
        path = urlsplit(url).path
        return path.startswith(API_PATH) and not _DOT_SEGMENT.search(path)

    def _failed(self, message: str) -> ReadError:
        """A ReadError for the latest request, recorded on it too."""
        if self.requests and self.requests[-1].error is None:
            self.requests[-1].error = message
        return ReadError(message)

    def _get(self, url: str, name: str) -> dict:
        """One answer, after at most a few 429s (waiting what Retry-After asks, within a bound) and one 5xx."""
        throttled = server_errors = 0
        while True:
            status, body, retry_after = self._request(url, name)
            if status == 429:
                wait = _seconds(retry_after)
                bound = self.limits.max_retry_after_s
                left = self._deadline - time.monotonic()
                if wait is None or wait > bound or wait >= left or throttled >= self.limits.max_throttled_retries:
                    # The org's header is never quoted (it may hold anything): only the wait cifcheck read from it.
                    if wait is not None:
                        asked = f"Retry-After {wait:g} s"
                    else:
                        asked = "a Retry-After that is no number or date" if retry_after else "no Retry-After"
                    raise self._failed(
                        f"HTTP 429: the org throttled the reads of {name} ({asked}; cifcheck waits at most "
                        f"{bound:g} s, {self.limits.max_throttled_retries} times)"
                    )
                throttled += 1
                self.requests[-1].error = f"HTTP 429 for {name}: waited {wait:g} s as Retry-After asked, then again"
                self._sleep(wait)
                continue
            if 500 <= status < 600 and server_errors == 0 and self._deadline - time.monotonic() > 1:
                server_errors += 1
                self.requests[-1].error = f"HTTP {status} for {name}: tried once more"
                self._sleep(self.limits.server_error_pause_s)
                continue
            return self._answer(status, body, name)

    def _request(self, url: str, name: str) -> tuple[int, bytes, str]:
        """One GET: its status, body and Retry-After header."""
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
                retry_after = response.headers.get("retry-after", "")
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > self.limits.max_body_bytes:
                    raise self._failed(f"the answer for {name} is larger than {self.limits.max_body_bytes:,} bytes")
                body = response.body()
                if len(body) > self.limits.max_body_bytes:
                    raise self._failed(f"the answer for {name} is larger than {self.limits.max_body_bytes:,} bytes")
                self._bytes += len(body)
                if self._bytes > self.limits.max_total_bytes:
                    raise self._failed(
                        f"{name} not read whole: the Web API answers together are larger than "
                        f"{self.limits.max_total_bytes:,} bytes"
                    )
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
        return status, body, retry_after

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
            answer = json.loads(body.decode("utf-8-sig"), parse_constant=_no_constant, parse_float=_finite)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise self._failed(f"answer is not JSON ({name}, HTTP {status})") from None
        if not isinstance(answer, dict):
            raise self._failed(f"answer is not a JSON object ({name}, HTTP {status})")
        return answer
