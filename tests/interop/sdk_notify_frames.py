"""Write Notify and GetGlobalState bodies with the official SDK's own message classes.

Run as a script, never imported (the SDK stays out of the test process)::

    python sdk_notify_frames.py OUT.json

OUT.json holds ``{"bodies": {name: hex}, "enums": {enum: {value: name}}}``:
one Notify body per kind of push, a GetGlobalState reply, and the values of
the SDK's enums that our vocabulary mirrors, so the test can check both.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    (out_path,) = argv
    # Imported here so that a missing SDK fails this process, not the test's.
    from futu.common.pb import Common_pb2, GetGlobalState_pb2, Notify_pb2, Qot_Common_pb2

    def notify(fill: object) -> bytes:
        response = Notify_pb2.Response(retType=0)
        fill(response.s2c)  # type: ignore[operator]
        return response.SerializeToString()

    def gtw_event(s2c: object) -> None:
        s2c.type = Notify_pb2.NotifyType_GtwEvent  # type: ignore[attr-defined]
        s2c.event.eventType = Notify_pb2.GtwEventType_KickedOut  # type: ignore[attr-defined]
        s2c.event.desc = "账号在其他设备登录"  # type: ignore[attr-defined]

    def program_status(s2c: object) -> None:
        s2c.type = Notify_pb2.NotifyType_ProgramStatus  # type: ignore[attr-defined]
        status = s2c.programStatus.programStatus  # type: ignore[attr-defined]
        status.type = Common_pb2.ProgramStatusType_NeedPhoneVerifyCode
        status.strExtDesc = "sms sent"

    def conn_status(s2c: object) -> None:
        s2c.type = Notify_pb2.NotifyType_ConnStatus  # type: ignore[attr-defined]
        s2c.connectStatus.qotLogined = False  # type: ignore[attr-defined]
        s2c.connectStatus.trdLogined = True  # type: ignore[attr-defined]

    def qot_right(s2c: object) -> None:
        s2c.type = Notify_pb2.NotifyType_QotRight  # type: ignore[attr-defined]
        rights = s2c.qotRight  # type: ignore[attr-defined]
        for number, field in enumerate(rights.DESCRIPTOR.fields):
            if field.name == "hasUSOptionQotRight":
                setattr(rights, field.name, True)
            else:  # every right in turn, Bmp to Level3
                setattr(rights, field.name, number % 6 + 1)

    def api_level(s2c: object) -> None:
        s2c.type = Notify_pb2.NotifyType_APILevel  # type: ignore[attr-defined]
        s2c.apiLevel.apiLevel = "LV1"  # type: ignore[attr-defined]

    def api_quota(s2c: object) -> None:
        s2c.type = Notify_pb2.NotifyType_APIQuota  # type: ignore[attr-defined]
        s2c.apiQuota.subQuota = 1000  # type: ignore[attr-defined]
        s2c.apiQuota.historyKLQuota = 300  # type: ignore[attr-defined]

    def used_quota(s2c: object) -> None:
        s2c.type = Notify_pb2.NotifyType_UsedQuota  # type: ignore[attr-defined]
        s2c.usedQuota.usedSubQuota = 12  # type: ignore[attr-defined]
        s2c.usedQuota.usedKLineQuota = 34  # type: ignore[attr-defined]

    state = GetGlobalState_pb2.Response(retType=0)
    s2c = state.s2c
    s2c.marketHK = Qot_Common_pb2.QotMarketState_Afternoon
    s2c.marketUS = Qot_Common_pb2.QotMarketState_PreMarketBegin
    s2c.marketSH = Qot_Common_pb2.QotMarketState_Closed
    s2c.marketSZ = Qot_Common_pb2.QotMarketState_Closed
    s2c.marketHKFuture = Qot_Common_pb2.QotMarketState_NightOpen
    s2c.marketUSFuture = Qot_Common_pb2.QotMarketState_FutureOpen
    s2c.qotLogined = True
    s2c.trdLogined = False
    s2c.serverVer = 904
    s2c.serverBuildNo = 4708
    s2c.time = 1_700_000_000
    s2c.localTime = 1_700_000_000.5
    s2c.programStatus.type = Common_pb2.ProgramStatusType_Ready
    s2c.qotSvrIpAddr = "10.0.0.1"
    s2c.trdSvrIpAddr = "10.0.0.2"
    s2c.connID = 123456789

    bodies = {
        "gtw_event": notify(gtw_event),
        "program_status": notify(program_status),
        "conn_status": notify(conn_status),
        "qot_right": notify(qot_right),
        "api_level": notify(api_level),
        "api_quota": notify(api_quota),
        "used_quota": notify(used_quota),
        "global_state": state.SerializeToString(),
    }
    enums = {
        "NotifyType": Notify_pb2.NotifyType,
        "GatewayEventType": Notify_pb2.GtwEventType,
        "ProgramStatusType": Common_pb2.ProgramStatusType,
        "QuoteRight": Qot_Common_pb2.QotRight,
        "MarketState": Qot_Common_pb2.QotMarketState,
    }
    result = {
        "bodies": {name: body.hex() for name, body in bodies.items()},
        "enums": {
            ours: {str(value): name for name, value in enum.items()} for ours, enum in enums.items()
        },
    }
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
