"""The simulator's protocol handlers and the route table that binds them to proto ids.

Each handler takes the shared :class:`ServerState`, the caller's
:class:`ConnectionState` and the parsed request, and returns the complete
Response. Gatekeeping common to all protocols lives in :mod:`._dispatch`.
"""

from __future__ import annotations

import secrets
from typing import Any

from .._opend.crypto import PacketEncAlgo
from .._opend.health_vocabulary import MARKET_STATE_FIELDS
from .._opend.vocabulary import REQUEST_TYPES, GroupType, ModifyOp, ProtoId, format_code
from .._pb import (
    GetGlobalState_pb2,
    InitConnect_pb2,
    KeepAlive_pb2,
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
    Qot_ModifyUserSecurity_pb2,
)
from ..sim import _texts as texts
from ._dispatch import Handler, Route, failure
from ._market_data_handlers import market_data_handlers
from ._notify import set_program_status
from ._quote_handlers import quote_handlers
from ._state import ConnectionState, ServerState
from ._watchlists import (
    GroupNotQueryableError,
    SystemGroupError,
    UnknownGroupError,
    UnknownSecurityError,
)

__all__ = [
    "default_routes",
    "get_global_state",
    "get_user_security",
    "get_user_security_group",
    "init_connect",
    "keep_alive",
    "modify_user_security",
]

_NO_ENCRYPTION = PacketEncAlgo.NONE
_ENCRYPTIONS = frozenset(algo for algo in PacketEncAlgo if algo is not PacketEncAlgo.NONE)

# The quote calls OpenD refuses while it is not logged in to the quote server.
_QUOTE_CALLS = frozenset(
    {
        ProtoId.GET_USER_SECURITY,
        ProtoId.GET_USER_SECURITY_GROUP,
        ProtoId.MODIFY_USER_SECURITY,
        *quote_handlers(),
        *market_data_handlers(),
    }
)


def init_connect(
    server: ServerState, conn: ConnectionState, request: InitConnect_pb2.Request
) -> InitConnect_pb2.Response:
    """1001: register the client and hand it its connection id and keys.

    An unencrypted simulator accepts only ``packetEncAlgo`` -1 (or none). An
    encrypted one (``server.encrypted``) accepts only 0, 1 or 2, and sends
    ``aesCBCiv`` only for 2 (AES_CBC): the official SDK picks CBC when the
    reply has an IV and FTAES_ECB when it has none.
    """
    c2s = request.c2s
    response_type = InitConnect_pb2.Response
    if conn.refuse_handshake:
        return failure(response_type, texts.HANDSHAKE_REFUSED)
    # Absent means "no encryption": the official SDK always sends it, and a
    # client that leaves it out is not asking for encryption.
    algo = c2s.packetEncAlgo if c2s.HasField("packetEncAlgo") else _NO_ENCRYPTION
    if server.encrypted:
        if algo == _NO_ENCRYPTION:
            return failure(response_type, texts.ENCRYPTION_REQUIRED)
        if algo not in _ENCRYPTIONS:
            return failure(response_type, texts.UNKNOWN_ENCRYPTION.format(algo=algo))
    elif algo != _NO_ENCRYPTION:
        return failure(response_type, texts.UNSUPPORTED_ENCRYPTION.format(algo=algo))
    if not conn.initialised:
        conn.initialised = True
        # 16 ASCII characters: their bytes are the AES-128 key and the IV.
        conn.aes_key = secrets.token_hex(8).upper()
        conn.aes_iv = secrets.token_hex(8).upper()
    conn.enc_algo = algo
    conn.client_id = c2s.clientID
    conn.client_ver = c2s.clientVer
    conn.recv_notify = c2s.recvNotify
    response = response_type(retType=texts.RET_OK)
    s2c = response.s2c
    s2c.serverVer = server.gateway.server_version
    s2c.loginUserID = server.login_user_id
    s2c.connID = conn.conn_id
    s2c.connAESKey = conn.aes_key
    if not server.encrypted or algo == PacketEncAlgo.AES_CBC:
        s2c.aesCBCiv = conn.aes_iv
    s2c.keepAliveInterval = server.keepalive_interval
    return response


def get_global_state(
    server: ServerState, conn: ConnectionState, request: GetGlobalState_pb2.Request
) -> GetGlobalState_pb2.Response:
    """1002: market states, logins, program status and versions, from ``server.gateway``.

    Answered whatever the gateway's status: it is how a client learns it.
    """
    gateway = server.gateway
    now = server.wall_clock()
    response = GetGlobalState_pb2.Response(retType=texts.RET_OK)
    s2c = response.s2c
    for name, proto_name in MARKET_STATE_FIELDS.items():
        value = getattr(gateway, name)
        if value is not None:
            setattr(s2c, proto_name, int(value))
    s2c.qotLogined = gateway.quote_logged_in
    s2c.trdLogined = gateway.trade_logged_in
    s2c.serverVer = gateway.server_version
    s2c.serverBuildNo = gateway.server_build_no
    s2c.time = int(now)
    s2c.localTime = now
    if gateway.reports_program_status:
        set_program_status(s2c.programStatus, gateway.program_status)
    if gateway.quote_server_address is not None:
        s2c.qotSvrIpAddr = gateway.quote_server_address
    if gateway.trade_server_address is not None:
        s2c.trdSvrIpAddr = gateway.trade_server_address
    s2c.connID = conn.conn_id
    return response


def keep_alive(
    server: ServerState, conn: ConnectionState, request: KeepAlive_pb2.Request
) -> KeepAlive_pb2.Response:
    """1004: answer with the server's time, in whole seconds."""
    response = KeepAlive_pb2.Response(retType=texts.RET_OK)
    response.s2c.time = int(server.wall_clock())
    return response


def get_user_security(
    server: ServerState, conn: ConnectionState, request: Qot_GetUserSecurity_pb2.Request
) -> Qot_GetUserSecurity_pb2.Response:
    """3213: the securities of one watchlist group."""
    name = request.c2s.groupName
    response_type = Qot_GetUserSecurity_pb2.Response
    try:
        securities = server.watchlists.securities_in(name)
    except UnknownGroupError:
        message = texts.unknown_group(server.language)
        return failure(response_type, message, err_code=texts.ERR_UNKNOWN_GROUP)
    except GroupNotQueryableError:
        message = texts.unqueryable_group(name, server.language)
        return failure(response_type, message, err_code=texts.ERR_UNKNOWN_GROUP)
    response = response_type(retType=texts.RET_OK)
    # An empty group still gets an s2c: the official SDK reads it unconditionally.
    response.s2c.SetInParent()
    response.s2c.staticInfoList.extend(securities)
    return response


# What each 3222 groupType lists.
_GROUP_TYPES_SHOWN: dict[int, frozenset[GroupType]] = {
    GroupType.CUSTOM: frozenset({GroupType.CUSTOM}),
    GroupType.SYSTEM: frozenset({GroupType.SYSTEM}),
    GroupType.ALL: frozenset({GroupType.CUSTOM, GroupType.SYSTEM}),
}


def get_user_security_group(
    server: ServerState, conn: ConnectionState, request: Qot_GetUserSecurityGroup_pb2.Request
) -> Qot_GetUserSecurityGroup_pb2.Response:
    """3222: the names and kinds of the watchlist groups, in listing order.

    System groups come first, in OpenD's order, then custom groups in creation
    order; ``groupType`` 1 lists custom groups, 2 system groups, 3 both.
    """
    group_type = request.c2s.groupType
    shown = _GROUP_TYPES_SHOWN.get(group_type)
    if shown is None:
        return failure(
            Qot_GetUserSecurityGroup_pb2.Response,
            texts.unknown_group_type(group_type, server.language),
        )
    response = Qot_GetUserSecurityGroup_pb2.Response(retType=texts.RET_OK)
    s2c = response.s2c
    s2c.SetInParent()
    for group in server.watchlists.groups:
        if group.group_type in shown:
            s2c.groupList.add(groupName=group.name, groupType=int(group.group_type))
    return response


def modify_user_security(
    server: ServerState, conn: ConnectionState, request: Qot_ModifyUserSecurity_pb2.Request
) -> Qot_ModifyUserSecurity_pb2.Response:
    """3214: add securities to a custom group, delete them, or move them out of a group.

    See :meth:`~._watchlists.WatchlistStore.modify` for what each op does. The
    checks run in this order, and a refused request changes nothing: ``op``
    is 1, 2 or 3; ``securityList`` is not empty; the group exists; it is not a
    system group; every security is in the simulator's database. Success
    carries an empty ``s2c``.
    """
    c2s = request.c2s
    language = server.language
    response_type = Qot_ModifyUserSecurity_pb2.Response
    try:
        op = ModifyOp(c2s.op)
    except ValueError:
        return failure(response_type, texts.unknown_modify_op(c2s.op, language))
    if not c2s.securityList:
        return failure(response_type, texts.empty_security_list(language))
    keys = [(security.market, security.code) for security in c2s.securityList]
    try:
        server.watchlists.modify(c2s.groupName, op, keys, on_change=server.on_watchlists_change)
    except UnknownGroupError:
        message = texts.unknown_group(language)
        return failure(response_type, message, err_code=texts.ERR_UNKNOWN_GROUP)
    except SystemGroupError:
        message = texts.system_group_read_only(c2s.groupName, language)
        return failure(response_type, message, err_code=texts.ERR_SYSTEM_GROUP)
    except UnknownSecurityError as exc:
        message = texts.unknown_securities(map(format_code, exc.keys), language)
        return failure(response_type, message, err_code=texts.ERR_UNKNOWN_SECURITY)
    except OSError as exc:
        # The store has rolled back; the client must not believe it was saved.
        reason = exc.strerror or str(exc)
        return failure(response_type, texts.save_failed(reason, language))
    response = response_type(retType=texts.RET_OK)
    response.s2c.SetInParent()
    return response


def default_routes() -> dict[int, Route[Any]]:
    """A fresh route table with every protocol the simulator serves."""
    handlers: dict[ProtoId, Handler[Any]] = {
        ProtoId.INIT_CONNECT: init_connect,
        ProtoId.GET_GLOBAL_STATE: get_global_state,
        ProtoId.KEEP_ALIVE: keep_alive,
        ProtoId.GET_USER_SECURITY: get_user_security,
        ProtoId.GET_USER_SECURITY_GROUP: get_user_security_group,
        ProtoId.MODIFY_USER_SECURITY: modify_user_security,
        **quote_handlers(),
        **market_data_handlers(),
    }
    return {
        proto_id: Route(
            REQUEST_TYPES[proto_id],
            handler,
            needs_init=proto_id != ProtoId.INIT_CONNECT,
            needs_quote_login=proto_id in _QUOTE_CALLS,
        )
        for proto_id, handler in handlers.items()
    }
