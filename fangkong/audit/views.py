"""The audit log for auditors: entries newest first, and a check of the hash chain."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator

from fangkong.accounts.scoping import AUDIT_READERS, require_role
from fangkong.accounts.views import render_staff
from fangkong.audit.actions import verify_chain
from fangkong.audit.models import AuditEntry

ENTRIES_PER_PAGE = 50
ACTION_LABELS = {
    "person.search": "查询居民",
    "person.view": "查看居民",
    "ingest": "导入数据",
    "flag.view": "查看待核记录",
    "flag.resolve": "处理待核记录",
    "policy.publish": "发布政策",
    "key.rotate": "轮换签名密钥",
    "key.revoke": "吊销签名密钥",
    "checkpoint.create": "创建卡口",
    "zone.set": "调整风险区划",
    "exit_rules.publish": "发布易行码规则",
    "exit_pass.issue": "签发易行码",
    "exit_pass.deny": "拒绝易行码申请",
    "exit_pass.exit": "易行码出门",
    "exit_pass.return": "易行码回小区",
    "clearance.submit": "提交解码申请",
    "clearance.view": "查看解码申请",
    "clearance.start_review": "开始审核解码申请",
    "clearance.approve": "批准解码申请",
    "clearance.reject": "驳回解码申请",
    "clearance.request_evidence": "要求补充材料",
}


@login_required
def log(request):
    require_role(request.user, AUDIT_READERS)
    entries = AuditEntry.objects.all()
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    target = request.GET.get("target", "").strip()
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_name=actor)
    if target:
        kind, _, ident = target.partition(":")
        entries = (
            entries.filter(target_type=kind, target_id=ident)
            if ident
            else entries.filter(target_type=kind)
        )
    page = Paginator(entries.order_by("-id"), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
        entry.action_label = ACTION_LABELS.get(entry.action, "")
    query = urlencode(
        [
            (name, value)
            for name, value in (("action", action), ("actor", actor), ("target", target))
            if value
        ]
    )
    context = {
        "page": page,
        "action": action,
        "actor": actor,
        "target": target,
        "extra_query": query,
        "actions": sorted({*ACTION_LABELS, *([action] if action else [])}),
        "action_labels": ACTION_LABELS,
        "verification": _verification() if request.GET.get("verify") else None,
    }
    return render_staff(request, "audit/log.html", context)


def _verification() -> dict:
    ok, bad_id = verify_chain()
    return {"ok": ok, "bad_id": bad_id, "count": AuditEntry.objects.count()}


@login_required
def verify(request):
    """The chain check alone, for htmx to put in the log page."""
    require_role(request.user, AUDIT_READERS)
    return render_staff(request, "audit/_verification.html", {"verification": _verification()})
