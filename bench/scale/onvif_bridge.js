// SPDX-License-Identifier: GPL-2.0-or-later
// bench/scale peer: an ONVIF-to-MQTT bridge built the way onvif2mqtt is built (npm `onvif` for the
// cameras, npm `mqtt` for the broker), so the gateway can be compared with it on the same simulator
// and broker. One onvif.Cam per ledger row; `cam.on('event')` makes the package create a PullPoint
// subscription and pull in a loop; every NotificationMessage is published (QoS 1) as
//   {"camera": "<ledger id>", "event_id": "<EventId data item>", "topic": "<ONVIF topic>"}
// on <prefix>/<camera id>. The packages are installed by bench/scale/scale.py into a temporary
// directory (NODE_PATH); nothing of them is committed.
//
// usage: node onvif_bridge.js LEDGER.csv MQTT_URL TOPIC_PREFIX [CONNECT_CONCURRENCY]
'use strict';
const fs = require('fs');
const onvif = require('onvif');
const mqtt = require('mqtt');

const [ledgerPath, mqttUrl, prefix, concArg] = process.argv.slice(2);
if (!ledgerPath || !mqttUrl || !prefix) {
	console.error('usage: node onvif_bridge.js LEDGER.csv MQTT_URL TOPIC_PREFIX [CONNECT_CONCURRENCY]');
	process.exit(2);
}
// Connecting every camera at once opens thousands of sockets in one tick; bound it like the gateway's
// max_bootstraps so the comparison is about steady state, not a self-inflicted storm.
const concurrency = parseInt(concArg || '64', 10);

// The ledger camsim writes has no quoted fields with commas in the columns used here.
function readLedger(path) {
	const lines = fs.readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length);
	const head = lines.shift().split(',');
	const col = (n) => head.indexOf(n);
	return lines.map((l) => {
		const f = l.split(',');
		const u = new URL(f[col('address')]);
		return { id: f[col('id')], host: u.hostname, port: parseInt(u.port, 10),
			 user: f[col('username')], pass: f[col('password')] };
	});
}

// The package turns the XML into objects (attributes under `$`); the EventId is a SimpleItem of Data.
function findEventId(o, depth) {
	if (!o || typeof o !== 'object' || depth > 12)
		return null;
	if (o.$ && o.$.Name === 'EventId' && o.$.Value !== undefined)
		return String(o.$.Value);
	for (const k of Object.keys(o)) {
		const r = findEventId(o[k], depth + 1);
		if (r)
			return r;
	}
	return null;
}

function topicOf(msg) {
	const t = msg && msg.topic;
	if (!t)
		return null;
	return String(typeof t === 'object' ? t._ : t).trim();
}

const cams = readLedger(ledgerPath);
const client = mqtt.connect(mqttUrl, { clientId: 'bench-node-bridge', clean: true, reconnectPeriod: 1000 });
let published = 0, errors = 0, connected = 0, next = 0, active = 0;

function startOne(row) {
	active++;
	const cam = new onvif.Cam({ hostname: row.host, port: row.port, username: row.user, password: row.pass,
				    timeout: 30000, preserveAddress: true }, (err) => {
		active--;
		if (err) {
			errors++;
			console.error(`${row.id}: connect: ${err.message || err}`);
		} else {
			connected++;
			cam.on('event', (msg) => {
				const payload = JSON.stringify({ camera: row.id, event_id: findEventId(msg, 0), topic: topicOf(msg) });
				client.publish(`${prefix}/${row.id}`, payload, { qos: 1 }, (e) => {
					if (e)
						errors++;
				});
				published++;
			});
			cam.on('eventsError', (e) => {
				errors++;
				if (errors < 50)
					console.error(`${row.id}: events: ${e.message || e}`);
			});
		}
		pump();
	});
	cam.on('error', (e) => {
		errors++;
		if (errors < 50)
			console.error(`${row.id}: ${e.message || e}`);
	});
}

function pump() {
	while (active < concurrency && next < cams.length)
		startOne(cams[next++]);
}

client.on('connect', () => {
	if (next === 0) {
		console.log(`bridge: mqtt connected, ${cams.length} cameras`);
		pump();
	}
});
setInterval(() => console.log(`bridge: connected ${connected}/${cams.length} published ${published} errors ${errors}`), 5000);
process.on('SIGTERM', () => { client.end(false, {}, () => process.exit(0)); setTimeout(() => process.exit(0), 3000); });
