// Checks a bid receipt and its inclusion proof in the browser, with WebCrypto only, exactly
// as docs/sealed-bids.md describes: the platform's Ed25519 signature over the canonical JSON
// of {"purpose": "procurement-receipt/1", "receipt": ...}, the RFC 9162 leaf hash of the
// receipt's canonical JSON, and the audit path up to the published root; and a signed
// bid-log head (purpose "procurement-bid-log-head/1"): the receipt's own, of the log just
// after its entry, and the sealed one, whose root must be the root checked against. Whatever
// this page fetches from the platform is shown in the form, so it can be compared with other
// copies.
"use strict";

const RECEIPT_PURPOSE = "procurement-receipt/1";
const HEAD_PURPOSE = "procurement-bid-log-head/1";

function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

// Keys sorted by code point, no whitespace, strings escaped as JSON requires: the same
// bytes as Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False).
function canonical(value) {
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort(byCodePoint);
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new Error("a receipt holds integers only, not " + value);
  }
  return JSON.stringify(value);
}

const utf8 = (text) => new TextEncoder().encode(text);
const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new Error("not hex: " + text);
  return Uint8Array.from(text.match(/../g) || [], (pair) => parseInt(pair, 16));
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

// RFC 9162 2.1.3.2, as bidding/merkle.py verify_inclusion.
async function verifyInclusion(leaf, index, treeSize, path, root) {
  if (!(index >= 0 && index < treeSize) || path.some((p) => p.length !== 32)) return false;
  let fn = index, sn = treeSize - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && hex(r) === hex(root);
}

async function signatureValid(signed, publicKey) {
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  const message = utf8(canonical({ purpose: RECEIPT_PURPOSE, receipt: signed.receipt }));
  return crypto.subtle.verify({ name: "Ed25519" }, key, fromBase64(signed.signature), message);
}

// A signed head: its key, then the Ed25519 signature over the canonical JSON of purpose,
// ocid, tree_size, root and timestamp. Returns why it fails, or null.
async function headProblem(head, publicKey) {
  if (hex(await sha256(publicKey)).slice(0, 16) !== head.key_id) {
    return "the head names key " + head.key_id + ", not the key given";
  }
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  const message = utf8(canonical({
    purpose: HEAD_PURPOSE, ocid: head.ocid, tree_size: head.tree_size, root: head.root,
    timestamp: head.timestamp,
  }));
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, fromBase64(head.signature), message))) {
    return "the head's signature is not the platform key's";
  }
  return null;
}

function timeOf(head) {
  return head.tsa
    ? "time " + head.timestamp + ", time-stamped by " + head.tsa +
      " (check the token with `procurement verify head --tsa-cert`)"
    : "time " + head.timestamp + ": " + head.time_source;
}

// The head carried with a receipt binds the receipt's time: of the receipt's own log, just
// after its entry, and timed no earlier than the entry was received.
async function checkReceiptHead(head, receipt, publicKey, say) {
  const problem = await headProblem(head, publicKey);
  if (problem) return problem;
  if (head.ocid !== receipt.ocid) return "the head is of the log of " + head.ocid + ", not " + receipt.ocid;
  if (head.tree_size !== receipt.log_index + 1) {
    return "the head has " + head.tree_size + " entries; entry " + receipt.log_index + " needs " + (receipt.log_index + 1);
  }
  if (Date.parse(head.timestamp) < Date.parse(receipt.received_at)) {
    return "the head is timed " + head.timestamp + ", before the entry was received";
  }
  say("Signed head just after entry " + receipt.log_index + ": valid; " + timeOf(head) + ".");
  return null;
}

async function getJson(path) {
  const answer = await fetch(path, { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(path + " answered " + answer.status);
  return answer.json();
}

const field = (id) => document.getElementById(id);

// Fill what the citizen left empty from the platform's public routes.
async function fillIn(receipt, keyId, say) {
  const ocid = encodeURIComponent(receipt.ocid);
  if (!field("platform-key").value.trim()) {
    const known = (await getJson("/platform/keys")).receipt_keys.find((k) => k.key_id === keyId);
    if (!known) throw new Error("the platform publishes no key " + keyId);
    field("platform-key").value = known.public_key;
    say("Platform key " + keyId + " fetched from /platform/keys.");
  }
  if (!field("root").value.trim()) {
    // Served from the seal on: before the deadline nothing tells how many bids there are.
    const head = await getJson("/tenders/" + ocid + "/bid-log").catch(() => {
      throw new Error("the bid log is not sealed yet: check the receipt after the deadline");
    });
    field("root").value = head.sealed_root;
    field("tree-size").value = head.tree_size;
    say("Sealed root fetched.");
    if (!field("sealed-head").value.trim()) {
      try {
        field("sealed-head").value = JSON.stringify(await getJson("/tenders/" + ocid + "/bid-log/signed-head"));
        say("Signed sealed head fetched.");
      } catch (error) {
        say("No signed sealed head (" + error.message + "): the sealed root is the platform's word alone.");
      }
    }
  }
}

// The inclusion proof, once the signature holds: a changed receipt is told as such, not as
// a leaf the log lacks.
async function fillInProof(receipt, say) {
  const ocid = encodeURIComponent(receipt.ocid);
  if (!field("proof").value.trim()) {
    const size = encodeURIComponent(field("tree-size").value.trim());
    let index = receipt.log_index;
    if (index === undefined) {  // a receipt names no position: its leaf is found in the log
      const leaf = hex(await leafHash(utf8(canonical(receipt))));
      index = (await getJson("/tenders/" + ocid + "/bid-log/leaves")).leaves.indexOf(leaf);
      if (index < 0) throw new Error("the receipt is no leaf of the sealed log");
    }
    const proof = await getJson(
      "/tenders/" + ocid + "/bid-log/inclusion?leaf_index=" + index + "&tree_size=" + size);
    field("proof").value = JSON.stringify(proof);
    say("Inclusion proof fetched.");
  }
}

// The checks of bidding/verify.py: signature, then inclusion against the trusted tree head.
async function check(say) {
  const signed = JSON.parse(field("receipt").value);
  const receipt = signed.receipt;
  await fillIn(receipt, signed.key_id, say);
  const publicKey = fromBase64(field("platform-key").value.trim());
  if (hex(await sha256(publicKey)).slice(0, 16) !== signed.key_id) {
    return "the receipt names key " + signed.key_id + ", not the key given";
  }
  if (!(await signatureValid(signed, publicKey))) return "the receipt's signature is not the platform key's";
  say("Signature by the platform key " + signed.key_id + ": valid.");
  await fillInProof(receipt, say);
  if (signed.signed_head && receipt.log_index !== undefined) {  // an older receipt's head
    const problem = await checkReceiptHead(signed.signed_head, receipt, publicKey, say);
    if (problem) return problem;
  }
  const leaf = await leafHash(utf8(canonical(receipt)));
  say("Leaf hash of the receipt: " + hex(leaf));
  const proof = JSON.parse(field("proof").value);
  const root = field("root").value.trim().toLowerCase();
  const size = Number(field("tree-size").value.trim());
  if (proof.tree_size !== size) return "the proof is for a tree of " + proof.tree_size + ", not " + size;
  const index = proof.leaf_index;
  if (receipt.log_index !== undefined && index !== receipt.log_index) {
    return "the proof is for entry " + index + ", the receipt is entry " + receipt.log_index;
  }
  if (proof.root !== root) return "the proof is against root " + proof.root + ", not " + root;
  const path = proof.audit_path.map(fromHex);
  if (!Number.isInteger(index) || !(await verifyInclusion(leaf, index, size, path, fromHex(root)))) {
    return "the receipt is not in the tree with that root";
  }
  say("Entry " + index + " of " + size + " under root " + root + ": included.");
  const sealedText = field("sealed-head").value.trim();
  if (sealedText) {
    const sealed = JSON.parse(sealedText);
    const problem = await headProblem(sealed, publicKey);
    if (problem) return "sealed head: " + problem;
    if (sealed.ocid !== receipt.ocid || sealed.root !== root || sealed.tree_size !== size) {
      return "the signed sealed head is of " + sealed.tree_size + " entries under root " + sealed.root + ", not the root checked against";
    }
    say("The root checked against is the one the platform signed at the seal; " + timeOf(sealed) + ".");
  }
  return null;
}

field("check").addEventListener("submit", async (event) => {
  event.preventDefault();
  const steps = field("steps");
  const verdict = field("verdict");
  steps.textContent = "";
  verdict.textContent = "Checking…";
  verdict.className = "";
  const say = (line) => { const li = document.createElement("li"); li.textContent = line; steps.append(li); };
  let failure;
  try {
    if (!(window.crypto && crypto.subtle)) throw new Error("this browser has no WebCrypto here (it needs HTTPS)");
    failure = await check(say);
  } catch (error) {
    failure = error.message;
  }
  verdict.textContent = failure ? "NOT VERIFIED: " + failure : "VERIFIED";
  verdict.className = failure ? "bad" : "ok";
});
