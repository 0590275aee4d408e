// The status page's script: vanilla JS, no dependency, nothing fetched but from this server.
//
// 1. /schema.json describes the messages the page uses (derived by the server from its descriptor set), and a
//    small generic protobuf codec (encode/decode below) works from it, so the page follows the contract.
// 2. grpcWeb() calls a method through grpc-web (application/grpc-web+proto) with fetch, on this origin.
// 3. The rest renders a treaty's status table and a country's page; the URL's query (?treaty=185&date=2007-11-30,
//    ?country=PH) sets the choices, and the choices update the URL.
'use strict';

let schema = null; // { methods, messages, enums }
let token = '';    // the bearer token, in memory only
const INITIAL_QUERY = new URLSearchParams(location.search); // the choices the page was opened with
// The latest request of each section: an answer to an older one (the reader picked again meanwhile) is dropped.
const latest = { treaty: 0, country: 0 };

// ---- protobuf codec, driven by the schema ------------------------------------------------------------------

const SCALAR_DEFAULTS = { string: '', bytes: new Uint8Array(0), bool: false };

// A field's wire type: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
function wireType(type) {
  switch (type) {
    case 'double': case 'fixed64': case 'sfixed64': return 1;
    case 'float': case 'fixed32': case 'sfixed32': return 5;
    case 'string': case 'bytes': case 'message': return 2;
    default: return 0;
  }
}

// Encodes `obj` (keys: the fields' JSON names) as message `name`. Only what the page sends is needed: strings,
// integers, booleans, enums (as numbers) and nested messages.
function encode(name, obj) {
  const out = [];
  const varint = (n) => {
    let v = BigInt.asUintN(64, BigInt(n));
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
  };
  for (const f of schema.messages[name].fields) {
    const values = f.repeated ? (obj[f.name] || []) : [obj[f.name]];
    for (const v of values) {
      if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
      varint((f.number << 3) | wireType(f.type));
      if (f.type === 'message') {
        const bytes = encode(f.message, v);
        varint(bytes.length);
        out.push(...bytes);
      } else if (f.type === 'string') {
        const bytes = new TextEncoder().encode(v);
        varint(bytes.length);
        out.push(...bytes);
      } else if (f.type === 'bool') {
        varint(1);
      } else if (wireType(f.type) === 0) {
        varint(f.type.startsWith('sint') ? (v < 0 ? -2 * v - 1 : 2 * v) : v);
      } else {
        throw new Error(`cannot encode ${name}.${f.name} (${f.type})`);
      }
    }
  }
  return Uint8Array.from(out);
}

// Decodes `bytes` as message `name`: every field of the schema present (its default when absent: '' for strings,
// 0 for numbers, [] for repeated fields, null for messages), enums as their value names. Unknown fields are
// skipped, as protobuf requires.
function decode(name, bytes) {
  const desc = schema.messages[name];
  const byNumber = new Map(desc.fields.map((f) => [f.number, f]));
  const obj = {};
  for (const f of desc.fields) {
    obj[f.name] = f.repeated ? [] : f.type === 'message' ? null
      : f.type === 'enum' ? enumName(f.enum, 0) : (SCALAR_DEFAULTS[f.type] ?? 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new Error(`truncated ${name}`);
      const b = bytes[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const f = byNumber.get(key >>> 3);
    const wt = key & 7;
    let value;
    if (wt === 0) {
      const raw = varint();
      if (!f) continue;
      value = scalarFromVarint(f, raw);
    } else if (wt === 1) {
      if (f) value = f.type === 'double' ? view.getFloat64(pos, true) : Number(view.getBigInt64(pos, true));
      pos += 8;
      if (!f) continue;
    } else if (wt === 5) {
      if (f) value = f.type === 'float' ? view.getFloat32(pos, true) : view.getInt32(pos, true);
      pos += 4;
      if (!f) continue;
    } else if (wt === 2) {
      const len = Number(varint());
      const chunk = bytes.subarray(pos, pos + len);
      pos += len;
      if (!f) continue;
      if (f.type === 'message') value = decode(f.message, chunk);
      else if (f.type === 'string') value = new TextDecoder().decode(chunk);
      else if (f.type === 'bytes') value = chunk;
      else { // a packed repeated scalar
        const inner = decodePacked(f, chunk);
        obj[f.name].push(...inner);
        continue;
      }
    } else {
      throw new Error(`unsupported wire type ${wt} in ${name}`);
    }
    if (f.repeated) obj[f.name].push(value); else obj[f.name] = value;
  }
  return obj;
}

function scalarFromVarint(f, raw) {
  switch (f.type) {
    case 'bool': return raw !== 0n;
    case 'enum': return enumName(f.enum, Number(BigInt.asIntN(32, raw)));
    case 'sint32': case 'sint64': return Number((raw >> 1n) ^ -(raw & 1n));
    case 'uint32': case 'uint64': return Number(raw);
    default: return Number(BigInt.asIntN(64, raw));
  }
}

function decodePacked(f, chunk) {
  const values = [];
  let pos = 0;
  while (pos < chunk.length) {
    let v = 0n, shift = 0n, b;
    do { b = chunk[pos++]; v |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80);
    values.push(scalarFromVarint(f, v));
  }
  return values;
}

function enumName(enumFull, number) {
  const values = schema.enums[enumFull] || {};
  return values[String(number)] ?? String(number);
}

// ---- grpc-web ----------------------------------------------------------------------------------------------

// Calls `method` (its fully-qualified name, e.g. coe.cybercrime.v1.TreatyService.GetTreatyStatus) with `request`
// and resolves to the decoded answer; rejects with the gRPC status and message.
async function grpcWeb(method, request) {
  const m = schema.methods[method];
  if (!m) throw new Error(`this server does not describe ${method}`);
  const message = encode(m.input, request);
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  const headers = { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'grpc-timeout': '20S' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(m.path, { method: 'POST', headers, body: frame });
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${m.path}`);
  const body = new Uint8Array(await response.arrayBuffer());
  // Frames: a flag byte (0x80: trailers), a 4-byte length, the payload.
  let data = null;
  let trailers = {};
  for (let pos = 0; pos + 5 <= body.length;) {
    const flag = body[pos];
    const len = new DataView(body.buffer, body.byteOffset + pos + 1, 4).getUint32(0);
    const payload = body.subarray(pos + 5, pos + 5 + len);
    pos += 5 + len;
    if (flag & 0x80) trailers = parseTrailers(new TextDecoder().decode(payload));
    else data = payload;
  }
  // A trailers-only answer (an error) carries its status in the headers.
  const status = trailers['grpc-status'] ?? response.headers.get('grpc-status') ?? '0';
  if (status !== '0') {
    const text = decodeURIComponent(trailers['grpc-message'] ?? response.headers.get('grpc-message') ?? '');
    const error = new Error(`${CODES[Number(status)] || `code ${status}`}: ${text}`);
    error.code = Number(status);
    throw error;
  }
  if (!data) throw new Error(`no message in the answer of ${method}`);
  return decode(m.output, data);
}

const CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

function parseTrailers(text) {
  const out = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

// ---- rendering helpers -------------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

// An element with attributes and children (strings become text: nothing is ever parsed as HTML).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// A google.type.Date as text: 2007-11-30, 2007-11 (day 0), 2007 (month 0); '' when unset.
function dateText(d) {
  if (!d || !d.year) return '';
  const p = (n) => String(n).padStart(2, '0');
  if (!d.month) return String(d.year);
  if (!d.day) return `${d.year}-${p(d.month)}`;
  return `${d.year}-${p(d.month)}-${p(d.day)}`;
}

// An ApproxDate's text (its bounds when they differ), else the plain date.
const approxText = (range, date) => (range && range.text) || dateText(date);

function dateOf(value) {
  const [year, month, day] = value.split('-').map(Number);
  return { year, month, day };
}

const citations = (sources) => (sources || []).map((s) => (s.locator ? `${s.document} ${s.locator}` : s.document)).join('; ');

// STATE_STATUS_INVITED_TO_ACCEDE -> "invited to accede".
const words = (enumValue) => enumValue.replace(/^[A-Z]+_[A-Z]+_/, '').replace(/^STATUS_/, '').toLowerCase().replace(/_/g, ' ');
const GROUP_TITLES = {
  STATE_STATUS_PARTY: 'Parties (ratified or acceded)',
  STATE_STATUS_SIGNATORY: 'Signatories (signed, not ratified)',
  STATE_STATUS_NOT_SIGNED: 'Not signed',
  STATE_STATUS_INVITED_TO_ACCEDE: 'Invited to accede',
  STATE_STATUS_ACCESSION_REQUESTED: 'Accession requested',
};
// Which group a reported figure's measure speaks of.
const MEASURE_GROUP = {
  'parties': 'STATE_STATUS_PARTY',
  'signatories': 'STATE_STATUS_SIGNATORY',
  'member-states-not-signed': 'STATE_STATUS_NOT_SIGNED',
  'invited-to-accede': 'STATE_STATUS_INVITED_TO_ACCEDE',
  'accession-requested': 'STATE_STATUS_ACCESSION_REQUESTED',
};

// The record's coverage, in plain words, for a date `asOf`.
function coverageBox(box, completeThrough, pastRecord, note, what) {
  box.replaceChildren();
  const through = dateText(completeThrough);
  box.className = `coverage ${pastRecord ? 'past' : 'within'}`;
  if (pastRecord) {
    box.append(through
      ? `The date asked for is past the record: ${what} is complete only through ${through}. What happened after that is in no source here; statuses may have changed.`
      : `The record of ${what} is complete through no date: statuses below may be incomplete.`);
  } else {
    box.append(`The record of ${what} is complete through ${through || '(no date)'}; the date asked for is within it.`);
  }
  if (note) box.append(el('div', { class: 'note' }, note));
}

function showError(e) {
  const box = $('error');
  box.hidden = false;
  box.textContent = e.code === 16
    ? `${e.message}. This server requires a token for reads: open "Access token" above and paste one.`
    : String(e.message || e);
  if (e.code === 16) $('token-box').open = true;
}

function clearError() {
  $('error').hidden = true;
}

// ---- the treaty status table -------------------------------------------------------------------------------

async function showTreaty() {
  const name = $('treaty').value;
  const date = $('treaty-date').value;
  if (!name || !date) return;
  const out = $('treaty-out');
  out.replaceChildren(el('p', { class: 'loading' }, 'Loading…'));
  setQuery({ treaty: name.replace('treaties/', ''), date });
  const seq = ++latest.treaty;
  try {
    const s = await grpcWeb('coe.cybercrime.v1.TreatyService.GetTreatyStatus', { name, asOf: dateOf(date) });
    if (seq !== latest.treaty) return;
    clearError();
    const title = $('treaty').selectedOptions[0]?.textContent || name;
    coverageBox($('treaty-coverage'), s.completeThrough, s.pastRecord, s.recordNote, title);
    const figures = new Map();
    for (const f of s.reportedFigures) {
      const g = MEASURE_GROUP[f.measure];
      if (g && !figures.has(g)) figures.set(g, f);
    }
    const summary = el('table', { class: 'summary', id: 'summary' },
      el('caption', {}, `${title} at ${dateText(s.asOf)}`),
      el('tr', {}, el('th', {}, 'Status'), el('th', { class: 'num' }, 'Count (computed)'),
        el('th', { class: 'num' }, 'of which certain'), el('th', { class: 'num' }, 'of which uncertain'),
        el('th', { class: 'num' }, "Report's figure"), el('th', {}, 'Reported (as of, source)')),
      s.groups.map((g) => {
        const f = figures.get(g.status);
        return el('tr', { 'data-status': g.status },
          el('td', {}, GROUP_TITLES[g.status] || words(g.status)),
          el('td', { class: 'num' }, g.count),
          el('td', { class: 'num' }, g.certainCount),
          el('td', { class: 'num' }, g.uncertainCount),
          el('td', { class: f && f.value !== g.count ? 'num mismatch' : 'num' }, f ? f.value : '—'),
          el('td', {}, f ? `${f.label}${f.qualifier ? ` (${f.qualifier})` : ''}, as of ${approxText(f.asOf)}, ${citations(f.sources)}` : ''));
      }));
    const others = s.reportedFigures.filter((f) => figures.get(MEASURE_GROUP[f.measure]) !== f);
    out.replaceChildren(summary,
      others.length ? el('div', {}, el('h3', {}, 'Other figures the report states'),
        el('table', {}, el('tr', {}, el('th', {}, 'Figure'), el('th', { class: 'num' }, 'Value'), el('th', {}, 'As of'), el('th', {}, 'Source')),
          others.map((f) => el('tr', {}, el('td', {}, f.label + (f.qualifier ? ` (${f.qualifier})` : '')), el('td', { class: 'num' }, f.value),
            el('td', {}, approxText(f.asOf)), el('td', {}, citations(f.sources)))))) : null,
      ...s.groups.map((g) => el('div', {},
        el('h3', {}, `${GROUP_TITLES[g.status] || words(g.status)}: ${g.count}`,
          g.uncertainCount ? ` (${g.uncertainCount} uncertain)` : ''),
        el('table', {}, el('tr', {}, el('th', {}, 'State'), el('th', {}, 'Signed'), el('th', {}, 'Ratified / acceded'),
          el('th', {}, 'In force'), el('th', {}, 'Certainty')),
        g.states.map((e) => el('tr', { class: e.uncertain ? 'uncertain' : '' },
          el('td', {}, e.displayName),
          el('td', { class: 'date' }, approxText(e.signedRange, e.signed)),
          el('td', {}, approxText(e.consentedRange, e.consented),
            e.consentedDerived ? el('div', { class: 'note' }, e.consentedDerived.note) : null),
          el('td', { class: 'date' }, approxText(e.entryIntoForceRange, e.entryIntoForce)),
          el('td', {}, e.uncertain ? `Uncertain: possibly ${words(e.possibly)}. ${e.reason}` : 'certain')))))));
  } catch (e) {
    if (seq !== latest.treaty) return;
    out.replaceChildren();
    showError(e);
  }
}

// ---- the country page --------------------------------------------------------------------------------------

async function showCountry() {
  const name = $('country').value;
  const date = $('country-date').value;
  const out = $('country-out');
  if (!name || !date) { out.replaceChildren(); return; }
  out.replaceChildren(el('p', { class: 'loading' }, 'Loading…'));
  setQuery({ country: name.replace('countries/', ''), cdate: date });
  const seq = ++latest.country;
  try {
    const c = await grpcWeb('coe.cybercrime.v1.CountryService.GetCountry', { name, asOf: dateOf(date) });
    if (seq !== latest.country) return;
    clearError();
    const parts = [el('h3', { id: 'country-title' }, `${c.displayName} at ${dateText(c.asOf)}`),
      el('p', {}, [c.region, c.coeMember ? 'Council of Europe member State' : 'not a Council of Europe member'].filter(Boolean).join(' · ')),
      c.note ? el('p', { class: 'note' }, c.note) : null];
    for (const t of c.treatyStatuses) {
      const box = el('div', {});
      coverageBox(box, t.completeThrough, t.pastRecord, '', `${t.treaty.replace('treaties/', 'ETS ')}`);
      const e = t.entry || {};
      parts.push(el('h3', {}, `${t.treaty.replace('treaties/', 'ETS ')}: ${words(t.status)}`), box,
        e.uncertain ? el('p', { class: 'uncertain' }, `Uncertain: possibly ${words(e.possibly)}. ${e.reason}`) : null,
        el('table', {}, el('tr', {}, el('th', {}, 'Action'), el('th', {}, 'Date'), el('th', {}, 'In force'), el('th', {}, 'Sources'), el('th', {}, 'Note')),
          t.actions.map((a) => el('tr', {}, el('td', {}, words(a.kind)), el('td', { class: 'date' }, approxText(a.date)),
            el('td', { class: 'date' }, dateText(a.entryIntoForce)), el('td', {}, citations(a.sources)),
            el('td', {}, a.note, a.derived ? el('div', { class: 'note' }, a.derived.note) : null)))));
    }
    if (c.legislativeAssistance.length) {
      parts.push(el('h3', {}, 'Legislative assistance'));
      for (const l of c.legislativeAssistance) {
        parts.push(el('p', {}, el('strong', {}, l.subject), l.specificAdvice ? ' (specific advice)' : '', ` — ${citations(l.sources)}`),
          el('table', {}, el('tr', {}, el('th', {}, 'Date'), el('th', {}, 'Step'), el('th', {}, 'Status'), el('th', {}, 'Description')),
            l.steps.map((s) => el('tr', {}, el('td', { class: 'date' }, approxText(s.date)), el('td', {}, s.method), el('td', {}, s.status), el('td', {}, s.description)))),
          l.note ? el('p', { class: 'note' }, l.note) : null);
      }
    }
    const cp = c.contactPoint;
    parts.push(el('h3', {}, '24/7 point of contact (Article 35 of ETS 185)'),
      cp ? el('p', {}, `${cp.status}${cp.note ? ` — ${cp.note}` : ''} (${citations(cp.sources)})`) : el('p', {}, 'No source here speaks of it.'));
    out.replaceChildren(...parts.filter(Boolean));
  } catch (e) {
    if (seq !== latest.country) return;
    out.replaceChildren();
    showError(e);
  }
}

// ---- start -------------------------------------------------------------------------------------------------

function setQuery(values) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(values)) q.set(k, v);
  history.replaceState(null, '', `?${q}`);
}

// Every page of a List method, followed through next_page_token.
async function listAll(method, field) {
  const items = [];
  let pageToken = '';
  do {
    const r = await grpcWeb(method, { pageSize: 1000, pageToken });
    items.push(...r[field]);
    pageToken = r.nextPageToken;
  } while (pageToken);
  return items;
}

async function loadChoices() {
  const q = new URLSearchParams(location.search);
  const treaties = await listAll('coe.cybercrime.v1.TreatyService.ListTreaties', 'treaties');
  $('treaty').replaceChildren(...treaties.map((t) => el('option', { value: t.name }, t.displayName || t.name)));
  const wanted = q.get('treaty');
  if (wanted) $('treaty').value = wanted.startsWith('treaties/') ? wanted : `treaties/${wanted}`;
  const countries = await listAll('coe.cybercrime.v1.CountryService.ListCountries', 'countries');
  $('country').replaceChildren(el('option', { value: '' }, '(choose a country)'),
    ...countries.sort((a, b) => (a.displayName || a.name).localeCompare(b.displayName || b.name))
      .map((c) => el('option', { value: c.name }, c.displayName || c.name)));
  const country = q.get('country');
  if (country) $('country').value = country.startsWith('countries/') ? country : `countries/${country}`;
  clearError();
  await Promise.all([showTreaty(), showCountry()]);
}

async function start() {
  const q = new URLSearchParams(location.search);
  const today = new Date().toISOString().slice(0, 10);
  $('treaty-date').value = q.get('date') || today;
  $('country-date').value = q.get('cdate') || q.get('date') || today;
  // Opened on a country alone (?country=PH): its page comes first.
  if (INITIAL_QUERY.has('country') && !INITIAL_QUERY.has('treaty')) $('treaty-section').before($('country-section'));
  for (const id of ['treaty', 'treaty-date']) $(id).addEventListener('change', showTreaty);
  for (const id of ['country', 'country-date']) $(id).addEventListener('change', showCountry);
  for (const id of ['treaty-form', 'country-form']) $(id).addEventListener('submit', (e) => e.preventDefault());
  $('token').addEventListener('change', () => { token = $('token').value.trim(); loadChoices().catch(showError); });
  try {
    const response = await fetch('/schema.json');
    schema = await response.json();
    await loadChoices();
  } catch (e) {
    showError(e);
  }
  document.body.dataset.ready = 'true';
}

document.addEventListener('DOMContentLoaded', start);
