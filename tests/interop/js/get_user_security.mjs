// The JavaScript SDK's GetUserSecurity example, run against asyncquote's simulator.
//
// Usage: node [--experimental-websocket] get_user_security.mjs HOST PORT KEY GROUP
//
// Logs in over WebSocket with KEY, asks for the securities of watchlist GROUP,
// and prints one JSON line: {"ok": true, "securities": [{market, code, name}, ...]}
// or {"ok": false, "error": ...}. Exits 0 on success, 1 on a failure reply,
// 2 when nothing happens for 30 s.
import ftWebsocket from "futu-api";

const [host, port, key, groupName] = process.argv.slice(2);

function finish(result, code) {
    console.log(JSON.stringify(result));
    process.exit(code);
}

setTimeout(() => finish({ ok: false, error: "no answer within 30 s" }, 2), 30000);

const websocket = new ftWebsocket();
websocket.onlogin = (loggedIn, detail) => {
    if (!loggedIn) {
        finish({ ok: false, error: `login failed: ${detail}` }, 1);
        return;
    }
    websocket
        .GetUserSecurity({ c2s: { groupName } })
        .then((response) => {
            const securities = (response.s2c.staticInfoList || []).map((info) => ({
                market: info.basic.security.market,
                code: info.basic.security.code,
                name: info.basic.name,
            }));
            finish({ ok: true, connID: String(websocket.getConnID()), securities }, 0);
        })
        .catch((error) => finish({ ok: false, error: error.retMsg || String(error) }, 1));
};
websocket.start(host, Number(port), false, key);
