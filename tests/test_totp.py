import pyotp
import pytest

from cifcheck.totp import TotpSecretError, totp_now


def test_codes_match_pyotp_for_the_same_secret_and_time():
    secret = pyotp.random_base32()
    for at in (0, 59, 1_111_111_109, 2_000_000_000):
        assert totp_now(secret, at=at) == pyotp.TOTP(secret).at(at)


def test_the_rfc_6238_test_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) for the ASCII secret "12345678901234567890".
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp_now(secret, at=59, digits=8) == "94287082"


def test_an_80_bit_secret_in_groups_and_lower_case_is_accepted():
    assert totp_now("jbsw y3dp ehpk 3pxp", at=59) == totp_now("JBSWY3DPEHPK3PXP", at=59)


def test_a_secret_that_is_not_base32_is_refused_clearly():
    with pytest.raises(TotpSecretError, match="not base32"):
        totp_now("not-a-secret!")
