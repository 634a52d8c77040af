/*
 * The auth module's bearer-token validation, written in njs for the
 * benchmark (bench/auth/run) to compare against: RS256 under the key the
 * kid names, exp and nbf with 60 s of leeway, the audience, tid a GUID,
 * iss equal to an issuer template with that tid.  njs keeps no state
 * between requests, so the key is imported on every request, as any njs
 * verifier must; the benchmark writes the keys into KEYS.
 */

const KEYS = {/*KEYS*/};
const ISSUERS = ['https://login.microsoftonline.com/{tenantid}/v2.0',
                 'https://sts.windows.net/{tenantid}/'];
const AUDIENCES = ['api://concierge'];
const LEEWAY = 60;
const MAX_TOKEN = 16384;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

function refuse(r, why) {
    r.headersOut['WWW-Authenticate'] =
        'Bearer error="invalid_token", error_description="' + why + '"';
    r.headersOut['Content-Type'] = 'application/json';
    r.return(401, '{"error":{"code":"invalid_token"}}\n');
}

function decode(segment) {
    try {
        return JSON.parse(Buffer.from(segment, 'base64url').toString());
    } catch (e) {
        return null;
    }
}

function issuerMatches(iss, tid) {
    return ISSUERS.some(function (t) {
        return t.replace('{tenantid}', tid) === iss;
    });
}

async function verify(r) {
    const auth = r.headersIn.Authorization || '';

    if (auth.slice(0, 7) !== 'Bearer ') {
        return refuse(r, 'missing_token');
    }

    const token = auth.slice(7);
    const parts = token.split('.');

    if (token.length > MAX_TOKEN) {
        return refuse(r, 'token_too_large');
    }

    if (parts.length !== 3) {
        return refuse(r, 'malformed');
    }

    const header = decode(parts[0]);

    if (header === null || header.alg !== 'RS256') {
        return refuse(r, 'alg_not_allowed');
    }

    const spki = KEYS[header.kid];

    if (spki === undefined) {
        return refuse(r, 'unknown_kid');
    }

    const key = await crypto.subtle.importKey('spki',
        Buffer.from(spki, 'base64'), RS256, false, ['verify']);
    const good = await crypto.subtle.verify(RS256, key,
        Buffer.from(parts[2], 'base64url'), parts[0] + '.' + parts[1]);

    if (!good) {
        return refuse(r, 'bad_signature');
    }

    const claims = decode(parts[1]);
    const now = Math.floor(Date.now() / 1000);

    if (claims === null || typeof claims.exp !== 'number') {
        return refuse(r, 'missing_exp');
    }

    if (claims.exp <= now - LEEWAY) {
        return refuse(r, 'expired');
    }

    if (typeof claims.nbf === 'number' && claims.nbf > now + LEEWAY) {
        return refuse(r, 'not_yet_valid');
    }

    if (AUDIENCES.indexOf(claims.aud) < 0) {
        return refuse(r, 'bad_audience');
    }

    if (typeof claims.tid !== 'string' || !GUID.test(claims.tid)) {
        return refuse(r, 'bad_tid');
    }

    if (!issuerMatches(claims.iss, claims.tid.toLowerCase())) {
        return refuse(r, 'bad_issuer');
    }

    r.headersOut['Content-Type'] = 'text/plain';
    r.return(200, 'ok\n');
}

export default { verify };
