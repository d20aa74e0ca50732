// Logs in to the simulator with the JavaScript SDK and stays, printing one
// line per login: "login <ok> <connID>". Exits 0 after the second login
// (the SDK logs in again by itself after the gateway closes the WebSocket),
// 2 when that has not happened within 30 s.
//
// Usage: node [--experimental-websocket] reconnect.mjs HOST PORT KEY
import ftWebsocket from "futu-api";

const [host, port, key] = process.argv.slice(2);
let logins = 0;

setTimeout(() => process.exit(2), 30000);

const websocket = new ftWebsocket();
websocket.onlogin = (loggedIn) => {
    logins += 1;
    console.log(`login ${loggedIn} ${websocket.getConnID()}`);
    if (logins === 2) {
        process.exit(0);
    }
};
websocket.start(host, Number(port), false, key);
