import pytest

from cifcheck.checks import REGISTRY
from cifcheck.checks.registry import evaluate


@pytest.fixture
def judge():
    """judge(check_id, evidence) -> CheckResult, as the runner would give it (no prerequisites ran)."""
    return lambda check_id, evidence: evaluate(REGISTRY[check_id], evidence, {})
