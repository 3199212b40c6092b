"""The built-in sandbox: a faithful simulator of the USCIS Case Status API.

``create_app`` builds the ASGI app, which an httpx client reaches in-process through
``InProcessTransport``;
``serve`` and ``running_server`` put it on a loopback port (``running_app`` any ASGI app,
such as a test's scripted server around it); ``casewatch.sandbox.options``
holds its command-line options. The contract it follows is uscis-api.md, including the
USCIS sandbox's hours and the faults a client must survive (``SandboxConfig.hours`` and
``SandboxConfig.faults``); its status titles come from case-stages.md. Cases can move to
a plausible next status, on demand (``POST /__sandbox/advance/{receiptNumber}``) or now
and then (``SandboxConfig.evolve_s``), so that change alerts can be seen and tested.
"""

from casewatch.sandbox.app import create_app
from casewatch.sandbox.config import FAULT_KINDS, SandboxConfig
from casewatch.sandbox.data import (
    STAGING_RECEIPTS,
    STAGING_RECEIPTS_WITH_HISTORY,
    STAGING_RECEIPTS_WITHOUT_HISTORY,
    staging_case,
    synthetic_case,
)
from casewatch.sandbox.responses import UNAVAILABLE_BODY
from casewatch.sandbox.server import running_app, running_server, serve
from casewatch.sandbox.transport import InProcessTransport

__all__ = [
    "FAULT_KINDS",
    "STAGING_RECEIPTS",
    "STAGING_RECEIPTS_WITHOUT_HISTORY",
    "STAGING_RECEIPTS_WITH_HISTORY",
    "UNAVAILABLE_BODY",
    "InProcessTransport",
    "SandboxConfig",
    "create_app",
    "running_app",
    "running_server",
    "serve",
    "staging_case",
    "synthetic_case",
]
