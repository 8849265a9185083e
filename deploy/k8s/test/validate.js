// Validates Kubernetes manifests offline against the API schemas that the
// npm package kubernetes-models carries (one JSON schema per kind, checked
// with ajv). Usage: node validate.js FILE.yaml...
// Prints one line per object; exits 1 if any object is invalid or of a
// kind it has no schema for, 2 on a usage or read error.
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

// apiVersion "apps/v1" -> "apps/v1"; "v1" (the core group) -> "v1".
function modelFor(apiVersion, kind) {
  if (!/^[a-z0-9.]+(\/v[0-9a-z]+)?$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind))
    return null;
  try {
    const mod = require(path.join("kubernetes-models", apiVersion, kind));
    return mod[kind] || mod.default || null;
  } catch (e) {
    return null;
  }
}

// kustomize's own file is not an API object: its few fields are checked
// here by hand.
function checkKustomization(doc) {
  const known = new Set(["apiVersion", "kind", "resources", "images",
                         "namespace", "commonLabels", "labels", "patches",
                         "configMapGenerator", "secretGenerator"]);
  for (const k of Object.keys(doc))
    if (!known.has(k)) throw new Error("unknown field " + k);
  if (!Array.isArray(doc.resources)) throw new Error("resources: want a list");
  for (const r of doc.resources)
    if (typeof r !== "string") throw new Error("resources: want file names");
}

let bad = 0;
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.js FILE.yaml...");
  process.exit(2);
}
for (const file of files) {
  let docs;
  try {
    docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.error(file + ": " + e.message);
    process.exit(2);
  }
  docs.forEach((d, i) => {
    const where = file + " #" + (i + 1);
    if (d.errors.length) {
      console.log(where + ": INVALID YAML: " + d.errors[0].message);
      bad++;
      return;
    }
    const obj = d.toJS();
    if (obj === null) return;
    const name = obj.kind + " " + ((obj.metadata || {}).name || "");
    try {
      if (obj.kind === "Kustomization") {
        checkKustomization(obj);
      } else {
        const Model = modelFor(String(obj.apiVersion), String(obj.kind));
        if (!Model) throw new Error("no schema for " + obj.apiVersion + " " + obj.kind);
        new Model(obj).validate();
      }
      console.log(where + ": ok " + name);
    } catch (e) {
      console.log(where + ": INVALID " + name + ": " + e.message);
      bad++;
    }
  });
}
process.exit(bad ? 1 : 0);
