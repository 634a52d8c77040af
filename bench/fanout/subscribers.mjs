// bench/fanout/subscribers.mjs: a lean WebSocket client for bench/fanout/run.
// Opens COUNT subscriptions to /api/live over TLS (a minimal RFC 6455
// client: the upgrade, then unmasked server frames), touches READY once all
// are open, and for every message of a text frame (a JSON array) notes
// "batch epoch-seconds" (the batch is the last six digits of the message's
// sessionId).  Writes the notes to OUT when EXPECT messages have arrived
// or after the deadline.
//
// node subscribers.mjs PORT CA_FILE TOKENS_FILE FIRST COUNT PER_USER EXPECT
//                      SECONDS OUT READY

import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';

const [port, caFile, tokensFile, first, count, perUser, expect, seconds,
       out, ready] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);
const tokens = fs.readFileSync(tokensFile, 'utf8').trim().split('\n');
const notes = [];
let open = 0;
let got = 0;

function finish() {
    fs.writeFileSync(out, notes.join(''));
    process.exit(0);
}

// A frame is a JSON array of messages: a note for each.
function onText(text) {
    const at = (performance.timeOrigin + performance.now()) / 1000;
    for (const m of text.matchAll(/"sessionId":"[0-9a-f-]+?(\d{6})"/g)) {
        notes.push(`${m[1]} ${at.toFixed(6)}\n`);
        if (++got === Number(expect)) {
            finish();
        }
    }
}

// Reads whole frames off buf; returns what is left over.
function readFrames(buf) {
    for (;;) {
        if (buf.length < 2) return buf;
        const opcode = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) {
            if (buf.length < 4) return buf;
            len = buf.readUInt16BE(2);
            at = 4;
        } else if (len === 127) {
            if (buf.length < 10) return buf;
            len = Number(buf.readBigUInt64BE(2));
            at = 10;
        }
        if (buf.length < at + len) return buf;
        if (opcode === 1) onText(buf.subarray(at, at + len).toString('utf8'));
        buf = buf.subarray(at + len);
    }
}

function subscribe(i) {
    const token = tokens[Math.floor(i / Number(perUser))];
    const key = crypto.randomBytes(16).toString('base64');
    const s = tls.connect({ host: '127.0.0.1', port: Number(port),
                            servername: 'localhost', ca,
                            ALPNProtocols: ['http/1.1'] }, () => {
        s.write('GET /api/live HTTP/1.1\r\nHost: localhost\r\n'
                + 'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`
                + `Authorization: Bearer ${token}\r\n\r\n`);
    });
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (!upgraded) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const head = buf.subarray(0, end).toString('latin1');
            if (!/^HTTP\/1\.1 101 /.test(head)) {
                console.error(`subscriber ${i}: ${head.split('\r\n')[0]}`);
                s.destroy();
                return;
            }
            upgraded = true;
            buf = buf.subarray(end + 4);
            if (++open === Number(count)) fs.writeFileSync(ready, '');
        }
        buf = readFrames(buf);
    });
    s.on('error', (e) => console.error(`subscriber ${i}: ${e.message}`));
}

for (let i = Number(first); i < Number(first) + Number(count); i++) {
    subscribe(i);
}
setTimeout(finish, Number(seconds) * 1000);
