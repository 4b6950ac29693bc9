"""os-instance_usage_audit_log: Nova's monthly usage audit status, per compute host.

Stackbox keeps no audit task log (usage comes from os-simple-tenant-usage), so every host is
reported as not having run the audit for the period, which is what Nova shows before its
periodic audit task has run.
"""
import datetime

from flask import Blueprint

from undercloud import db
from undercloud.common.errors import BadRequest
from undercloud.compute import policy
from undercloud.compute.models import ComputeNode
from undercloud.compute.routes.common import respond

blueprint = Blueprint("compute_audit_log", __name__)
_FORMAT = "%Y-%m-%d %H:%M:%S"


def _month_before(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The last whole month that ended at or before `moment` (Nova's 'month' audit period)."""
    end = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - datetime.timedelta(days=1)).replace(day=1)
    return start, end


def _status(before: datetime.datetime) -> dict:
    start, end = _month_before(before)
    hosts = sorted(node.host for node in ComputeNode.select(ComputeNode.host))
    return {"hosts_not_run": hosts, "log": {}, "num_hosts": len(hosts), "num_hosts_done": 0,
            "num_hosts_not_run": len(hosts), "num_hosts_running": 0,
            "overall_status": f"0 of {len(hosts)} hosts done. 0 errors.",
            "period_beginning": start.strftime(_FORMAT), "period_ending": end.strftime(_FORMAT),
            "total_errors": 0, "total_instances": 0}


@blueprint.get("/v2.1/os-instance_usage_audit_log")
def list_audit_logs():
    policy.enforce("instance-usage-audit-log")
    return respond({"instance_usage_audit_logs": _status(db.utcnow())})


@blueprint.get("/v2.1/os-instance_usage_audit_log/<before>")
def show_audit_log(before):
    policy.enforce("instance-usage-audit-log")
    for form in (_FORMAT, "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"):
        try:
            moment = datetime.datetime.strptime(before, form)
            break
        except ValueError:
            continue
    else:
        raise BadRequest("Invalid timestamp for date " + before)
    return respond({"instance_usage_audit_log": _status(moment)})
