// Checks slogen's Argo Rollouts manifests against Argo Rollouts' published CRD schema, as
// the npm package @kubernetes-models/argo-rollouts compiles it (`validate()` throws on a
// violation). The CRD schemas allow unknown keys, so each key written is also checked to
// be one the schema knows: given a value of the wrong type (an array for a scalar or an
// object, a string for an array), a known key is refused at its own path; an unknown one
// passes. Reads a JSON list of manifests on stdin; prints one problem a line; exit 1 if any.
import { readFileSync } from "node:fs";
import { AnalysisTemplate } from "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate";

const MODELS = { "argoproj.io/v1alpha1/AnalysisTemplate": AnalysisTemplate };

function errorsOf(Model, doc) {
  try {
    new Model(doc).validate();
    return [];
  } catch (err) {
    return err.errors ?? [{ instancePath: "", message: String(err) }];
  }
}

function paths(value, prefix = []) {
  if (Array.isArray(value)) return value.flatMap((item, i) => paths(item, [...prefix, i]));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...paths(item, [...prefix, key])]);
}

function withValue(doc, path, value) {
  const copy = structuredClone(doc);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path.at(-1)] = value;
  return copy;
}

const problems = [];
for (const [index, doc] of JSON.parse(readFileSync(0, "utf8")).entries()) {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  const name = `${doc.kind} ${doc.metadata?.name ?? index}`;
  if (!Model) {
    problems.push(`${name}: no published schema for ${doc.apiVersion} ${doc.kind}`);
    continue;
  }
  for (const error of errorsOf(Model, doc)) problems.push(`${name}: ${error.instancePath || "/"} ${error.message}`);
  for (const path of paths(doc)) {
    if (path.length === 1 && (path[0] === "apiVersion" || path[0] === "kind")) continue; // set by the model
    const original = path.reduce((node, key) => node[key], doc);
    const wrong = Array.isArray(original) ? "not a list" : [["not", "this"]];
    const at = "/" + path.map((key) => String(key).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
    const refused = errorsOf(Model, withValue(doc, path, wrong)).some((e) => e.instancePath.startsWith(at));
    if (!refused) problems.push(`${name}: ${at} is not a property of the published schema`);
  }
}
for (const problem of problems) console.log(problem);
process.exit(problems.length ? 1 : 0);
