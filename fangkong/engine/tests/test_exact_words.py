"""What the engine says, word for word, and where its boundaries fall: a checkpoint, a reviewer
and a resident read these messages, so a changed word or a shifted boundary is a changed product.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fangkong.engine import clearances as cl
from fangkong.engine import pseudonyms, tokens
from fangkong.engine.gate_rules import (
    ExitRules,
    Requirements,
    RuleError,
    check_code,
    check_exit,
    check_exit_pass,
    exit_pass_window,
    parse_exit_rules,
    start_of_local_day,
)
from fangkong.engine.id_numbers import mask_phone
from fangkong.engine.policies import PolicyError

NOW = datetime(2022, 4, 24, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
AT = int(NOW.timestamp())
PRIVATE = Ed25519PrivateKey.generate()
KEYS = {"k1": tokens.PublicKey("k1", PRIVATE.public_key())}


# -- tokens ------------------------------------------------------------------------------------


def token(claims=None, *, kind=tokens.CODE, kid="k1"):
    return tokens.sign(kind, {"iat": AT, "exp": AT + 180, **(claims or {})}, kid, PRIVATE)


def denial(text, keys=KEYS, now=NOW) -> str:
    with pytest.raises(tokens.TokenError) as caught:
        tokens.verify(text, keys, now)
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0秒"), (119, "119秒"), (120, "2分钟"), (7199, "119分钟"), (7200, "2小时")]
    + [(3 * 86400 - 1, "71小时"), (3 * 86400, "很久")],
)
def test_an_expired_token_says_how_long_ago(seconds, words):
    expired = token({"iat": AT - seconds - 180, "exp": AT - seconds})
    assert denial(expired) == f"二维码已过期,请刷新后重新出示(已过期{words})"


def test_each_denial_gives_its_reason_in_chinese():
    assert denial("a.b") == "无法识别的二维码"
    assert denial(token(kid="a-key-id-longer-than-16")) == (
        "签名密钥未知(请更新核验设备的公钥)(a-key-id-longer-)"
    )
    assert denial(token({"exp": "soon"})) == "无法识别的二维码(缺少exp)"
    assert denial(token({"nbf": "later"})) == "无法识别的二维码(缺少nbf)"
    assert denial(token(kind="other")) == "此处不接受该类型的码(出示的是未知类型)"
    head, body, sig = token().split(".")
    header = tokens.b64encode(tokens._json({"alg": "none", "kid": "k1", "typ": tokens.CODE}))
    assert denial(f"{header}.{body}.{sig}") == "无法识别的二维码(签名算法不符)"


def test_a_header_or_claims_that_are_not_objects_are_malformed():
    good = tokens.b64encode(tokens._json({"alg": "EdDSA", "kid": "k1"}))
    listed = tokens.b64encode(b"[1]")
    assert denial(f"{good}.{listed}.AA") == "无法识别的二维码"
    assert denial(f"{listed}.{good}.AA") == "无法识别的二维码"


def test_the_validity_window_is_half_open_at_expiry_and_inclusive_at_revocation():
    assert denial(token({"exp": AT})).startswith("二维码已过期")
    assert tokens.verify(token({"exp": AT + 1}), KEYS, NOW).claims["exp"] == AT + 1
    assert denial(token({"nbf": AT + 1})) == "二维码尚未生效"
    assert tokens.verify(token({"nbf": AT}), KEYS, NOW)
    assert tokens.verify(token({"iat": AT + 60}), KEYS, NOW)
    assert denial(token({"iat": AT + 61})) == "二维码尚未生效"
    revoked = {"k1": tokens.PublicKey("k1", PRIVATE.public_key(), NOW)}
    assert denial(token(), revoked) == "签名密钥已吊销,此码无效"


def test_a_token_is_at_most_2048_characters():
    # Base64 lengths skip some values: find a key id and padding that land on exactly 2048.
    longest = next(
        (kid, pad)
        for kid in ("k1", "k10", "k100")
        for pad in range(1300, 1500)
        if len(token({"pad": "x" * pad}, kid=kid)) == 2048
    )
    kid, pad = longest
    keys = {kid: tokens.PublicKey(kid, PRIVATE.public_key())}
    assert tokens.verify(token({"pad": "x" * pad}, kid=kid), keys, NOW)
    over = next(p for p in range(pad, pad + 4) if len(token({"pad": "x" * p}, kid=kid)) > 2048)
    assert denial(token({"pad": "x" * over}, kid=kid), keys) == "无法识别的二维码"


def test_claims_are_signed_as_compact_utf8_json():
    signed = token({"name": "张三"})
    payload = tokens.b64decode(signed.split(".")[1])
    assert payload == f'{{"iat":{AT},"exp":{AT + 180},"name":"张三"}}'.encode()
    assert "=" not in signed


@pytest.mark.parametrize("text", ["", "ab=c", "ab+c", "ab/c", "ab c"])
def test_only_unpadded_base64url_is_read(text):
    with pytest.raises(ValueError, match="^not base64url$"):
        tokens.b64decode(text)


def test_base64url_without_padding_reads_back_every_length():
    for data in (b"", b"a", b"ab", b"abc", b"abcd"):
        if data:
            assert tokens.b64decode(tokens.b64encode(data)) == data


# -- checkpoints and exit passes ----------------------------------------------------------------


def test_a_code_of_the_wrong_colour_names_what_the_checkpoint_wants():
    yellow = check_code(Requirements(colours=("green",)), {"col": "yellow"}, NOW)
    assert yellow.reasons == ("健康码为黄码,此处要求绿码",)
    unknown = check_code(Requirements(colours=("green", "yellow")), {"col": "blue"}, NOW)
    assert unknown.reasons == ("健康码为未知,此处要求绿码或黄码",)


def test_an_antigen_self_test_counts_from_the_first_second_of_the_beijing_day():
    midnight = start_of_local_day(NOW)
    assert midnight == datetime(2022, 4, 24, 0, 0, tzinfo=midnight.tzinfo)
    assert midnight.utcoffset() == timedelta(hours=8)
    req = Requirements(antigen_negative_today=True)
    at_midnight = {"col": "green", "ag": int(midnight.timestamp())}
    assert check_code(req, at_midnight, NOW).passed
    before = {"col": "green", "ag": int(midnight.timestamp()) - 1}
    assert check_code(req, before, NOW).reasons == ("今日无抗原自测阴性记录",)


def test_a_pcr_exactly_at_the_limit_still_counts():
    req = Requirements(pcr_negative_within_hours=48)
    assert check_code(req, {"col": "green", "pcr": AT - 48 * 3600}, NOW).passed
    late = check_code(req, {"col": "green", "pcr": AT - 48 * 3600 - 3600}, NOW)
    assert late.reasons == ("无48小时内核酸阴性记录(最近一次阴性采样于04-22 09:00,距今49小时)",)


def exit_at(now, **kw):
    args = {"zone_level": "prevention", "colour": "green", "household_passes_today": 0}
    return check_exit(ExitRules(pcr_negative_within_hours=None, **kw), claims={}, now=now, **args)


def test_exit_hours_are_beijing_time_from_opening_to_just_before_closing():
    opens = datetime(2022, 4, 23, 22, 0, tzinfo=UTC)  # 06:00 in Beijing
    assert exit_at(opens).passed
    assert not exit_at(opens - timedelta(seconds=1)).passed
    closes = datetime(2022, 4, 24, 12, 0, tzinfo=UTC)  # 20:00
    assert exit_at(closes).reasons == ("外出时段为06:00-20:00,当前不在时段内",)
    assert exit_at(closes - timedelta(seconds=1)).passed


def test_a_community_never_zoned_may_or_may_not_go_out_by_its_rules():
    args = {"colour": "green", "claims": {}, "household_passes_today": 0, "now": NOW}
    rules = ExitRules(pcr_negative_within_hours=None)
    assert check_exit(rules, zone_level=None, **args).passed
    strict = ExitRules(pcr_negative_within_hours=None, allow_unzoned=False)
    assert check_exit(strict, zone_level=None, **args).reasons == ("所在小区尚未划定为防范区",)


def test_a_pass_ends_at_closing_time_of_the_beijing_day_it_was_issued():
    late_evening = datetime(2022, 4, 24, 11, 0, tzinfo=UTC)  # 19:00 in Beijing
    start, end = exit_pass_window(ExitRules(), late_evening)
    assert (start, end) == (late_evening, datetime(2022, 4, 24, 12, 0, tzinfo=UTC))


def test_at_the_compound_gate_another_compound_or_a_locked_down_one_is_refused():
    claims = {"com": "220102001001"}
    assert check_exit_pass(claims, community_code="220102001002", zone_level=None).reasons == (
        "此通行码不属于本小区",
    )
    for level, label in (("lockdown", "封控区"), ("control", "管控区")):
        decision = check_exit_pass(claims, community_code="220102001001", zone_level=level)
        assert decision.reasons == (f"小区已调整为{label},通行码停用",)
    assert check_exit_pass(claims, community_code="220102001001", zone_level="prevention").passed


def test_exit_rules_must_open_before_they_close():
    with pytest.raises(RuleError, match="^opens 应早于 closes$"):
        parse_exit_rules({"opens": "20:00", "closes": "20:00"})
    assert parse_exit_rules({"opens": "19:59", "closes": "20:00"}).opens == time(19, 59)


# -- clearances ---------------------------------------------------------------------------------


def test_a_submitted_request_records_its_first_step():
    request = cl.submit("resident:1", NOW)
    assert request.steps == (cl.Step("submit", cl.SUBMITTED, "resident:1", NOW, ""),)
    with pytest.raises(cl.TransitionError, match="^申请人不能为空$"):
        cl.submit("", NOW)


def test_each_refused_step_says_why():
    request = cl.submit("hotline:7", NOW)

    def refused(clearance, action, actor="reviewer:1", side="reviewer", now=NOW, reason=""):
        with pytest.raises(cl.TransitionError) as caught:
            cl.transition(clearance, action, actor=actor, side=side, now=now, reason=reason)
        return str(caught.value)

    assert refused(request, "shred") == "未知的操作: shred"
    assert refused(request, cl.APPROVE) == "申请已提交时不能通过"
    assert refused(request, cl.START_REVIEW, actor="hotline:7") == "不能审核本人提交的申请"
    assert refused(request, cl.START_REVIEW, side="applicant") == "只有审核人员可以开始审核"
    assert refused(request, cl.WITHDRAW, side="reviewer") == "只有申请方可以撤回"
    earlier = NOW - timedelta(minutes=1)
    assert refused(request, cl.START_REVIEW, now=earlier) == "时间早于上一步,请检查系统时钟"
    review = cl.transition(request, cl.START_REVIEW, actor="reviewer:1", side="reviewer", now=NOW)
    assert review.steps[-1] == cl.Step(cl.START_REVIEW, cl.UNDER_REVIEW, "reviewer:1", NOW, "")
    assert refused(review, cl.REJECT, reason="  ") == "不通过须写明理由(居民可见)"
    done = cl.transition(
        review, cl.APPROVE, actor="reviewer:1", side="reviewer", now=NOW, reason=" 已核实 "
    )
    assert done.decision == cl.Step(cl.APPROVE, cl.APPROVED, "reviewer:1", NOW, "已核实")
    assert refused(done, cl.REJECT, reason="x") == "申请已通过,不能再不通过"


# -- small pieces -------------------------------------------------------------------------------


def test_a_pseudonym_key_is_16_or_32_bytes():
    for size in (15, 17, 31):
        with pytest.raises(ValueError, match="^pseudonym key must be 16 or 32 bytes$"):
            pseudonyms.person_ref(b"k" * size, 1)
    assert pseudonyms.person_from_ref(b"k" * 16, pseudonyms.person_ref(b"k" * 16, 7)) == 7


def test_only_a_22_character_text_can_be_a_person_reference():
    ref = pseudonyms.person_ref(b"k" * 32, 42)
    assert "=" not in ref and len(ref) == 22
    for wrong in (ref[:-1], ref + "A", None, 42):
        assert pseudonyms.person_from_ref(b"k" * 32, wrong) is None


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("1381234", "*******"), ("13812345", "138*2345"), ("13812345678", "138****5678")],
)
def test_a_phone_number_keeps_its_prefix_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


def test_a_policy_error_reads_as_its_problems_joined():
    assert str(PolicyError(["a: 必填", "b: 应为文本"])) == "a: 必填; b: 应为文本"


def test_base64url_drops_only_the_padding():
    assert tokens.b64encode(b"\x00\x00\x17") == "AAAX"
    assert tokens.b64encode(b"\xff") == "_w"


def test_a_token_whose_parts_are_not_json_is_malformed():
    assert denial("YQ.YQ.YQ") == "无法识别的二维码"


def test_only_an_ed25519_jwk_is_read():
    for jwk in ({"kty": "EC", "crv": "Ed25519", "x": "AA"}, {"kty": "OKP", "crv": "X25519"}):
        with pytest.raises(ValueError, match="^not an Ed25519 key$"):
            tokens.key_from_jwk(jwk)


def test_an_id_number_is_masked_only_from_ten_characters():
    from fangkong.engine.id_numbers import check_digits_ok, mask

    assert mask("1234567890") == "123456********7890"
    assert mask("123456789") == "*********"
    assert check_digits_ok(["x"]).dtype == bool


def test_an_exit_refused_for_an_unknown_colour_says_so():
    args = {"zone_level": "prevention", "claims": {}, "household_passes_today": 0, "now": NOW}
    rules = ExitRules(pcr_negative_within_hours=None)
    assert check_exit(rules, colour="blue", **args).reasons == ("健康码为未知,需为绿码",)


def test_a_note_given_with_a_request_is_its_first_step_reason():
    assert cl.submit("resident:1", NOW, "我已采样").steps[0].reason == "我已采样"
