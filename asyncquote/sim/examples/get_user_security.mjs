// The JavaScript SDK's GetUserSecurity example (npm futu-api), for asyncquote's simulator:
//
//   asyncquote sim --websocket-port 33333 --websocket-key KEY
//   npm install futu-api       # in this file's directory: ES modules look for it here
//   node --experimental-websocket get_user_security.mjs 127.0.0.1 33333 KEY 港股
//
// (Node 20 needs --experimental-websocket; Node 22 has WebSocket built in.)
// It logs in over WebSocket with KEY, asks for the securities of watchlist GROUP,
// and prints, after the SDK's own log lines, one JSON line:
// {"ok": true, "connID": ..., "securities": [{market, code, name}, ...]}
// or {"ok": false, "error": ...}. Exits 0 on success, 1 on a failure reply,
// 2 when nothing happens for 30 s. asyncquote's test suite runs it.
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
