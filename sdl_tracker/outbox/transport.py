"""Sending: one webhook request (POST, no redirects, a deadline) and e-mail through the SMTP relay.

Nothing here touches the database: the worker calls these between its claim and its record of the outcome,
outside any transaction. Each failure comes back as one short line that names no secret and no URL (a
webhook URL may carry a token of the receiver's).
"""

from __future__ import annotations

import contextlib
import http.client
import smtplib
import socket
import ssl
import threading
from email.message import EmailMessage
from email.utils import format_datetime
from types import TracebackType
from urllib.parse import urlsplit

from ..db import utcnow
from ..installation import SmtpRelay
from .rules import WEBHOOK_TIMEOUT_SECONDS, short_error

# What is read of a receiver's answer before it is dropped: only its status counts.
MAX_ANSWER = 64 * 1024
SMTP_TIMEOUT_SECONDS = 30.0


def _why(error: BaseException, timeout: float) -> str:
    """A failed exchange in a few words: the kind of failure, never what was sent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"the relay refused the recipient (SMTP {', '.join(map(str, codes))})"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"the relay refused the sign-in (SMTP {error.smtp_code}); check SMTP_USER and SMTP_PASSWORD"
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"SMTP {error.smtp_code}: {text}"
    if isinstance(error, smtplib.SMTPException):
        return f"SMTP: {error}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "host name not found"
    if isinstance(error, http.client.HTTPException):
        return f"not an HTTP answer ({type(error).__name__})"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return type(error).__name__


def _cut(connection: http.client.HTTPConnection, fired: threading.Event) -> None:
    """End the exchange at the deadline: the plain socket's shutdown (also under TLS) wakes any read at once."""
    fired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def post_webhook(
    url: str, headers: dict[str, str], body: bytes, *, timeout: float = WEBHOOK_TIMEOUT_SECONDS
) -> str | None:
    """POST `body` to `url` once; None when the receiver answered 2xx, else why not (a redirect is an answer
    that is not followed: the endpoint is the URL its officer registered, nothing it points on to)."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme.lower() == "https":
        connection = http.client.HTTPSConnection(
            host, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    # The timeout bounds each wait; the deadline bounds the whole exchange, however slowly a receiver answers.
    fired = threading.Event()
    deadline = threading.Timer(timeout, _cut, (connection, fired))
    deadline.daemon = True
    deadline.start()
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return f"no answer within {timeout:g} s" if fired.is_set() else short_error(_why(exc, timeout))
    finally:
        deadline.cancel()
        connection.close()
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed"
    return f"HTTP {status}"


def compose(sender: str, to: str, subject: str, body: str, delivery_id: str) -> EmailMessage:
    """A plain-text e-mail whose Message-ID is its delivery id, so a resend is recognisably the same message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{delivery_id}@{sender.rpartition('@')[2]}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the tracker
    message.set_content(body)
    return message


class Mailer:
    """One connection to the SMTP relay, opened on entry, for the e-mails of one batch."""

    def __init__(self, relay: SmtpRelay, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.relay = relay
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        relay, context = self.relay, ssl.create_default_context()
        if relay.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(relay.host, relay.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(relay.host, relay.port, timeout=self.timeout)
        try:
            if relay.security == "starttls":
                smtp.starttls(context=context)
            if relay.user:
                smtp.login(relay.user, relay.password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return self

    def send(self, *, to: str, subject: str, body: str, delivery_id: str) -> None:
        """Hand one e-mail to the relay (raises what the relay or the connection raised)."""
        assert self._smtp is not None, "send inside `with Mailer(...)`"
        self._smtp.send_message(compose(self.relay.sender, to, subject, body, delivery_id))

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp.close()


def mail_error(error: BaseException, timeout: float = SMTP_TIMEOUT_SECONDS) -> str:
    """Why an e-mail could not be handed to the relay, in one short line."""
    return short_error(_why(error, timeout))
