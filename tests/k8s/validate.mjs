// Check Kubernetes manifests against the published schemas: `node validate.mjs < manifests.json`
// reads a JSON list of [name, manifest] pairs and prints one line per problem (exit 1 if any).
//
// 1. `new Kind(manifest).validate()` of kubernetes-models / @kubernetes-models/prometheus-operator
//    (validators compiled from the CRDs' and Kubernetes' own OpenAPI schemas) throws on a
//    schema violation.
// 2. Those schemas do not forbid unknown fields (the API server prunes them silently), so
//    every key is also looked up in the schema's properties: the package's type
//    declarations (.d.ts, generated from the same schemas) list them per object.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";

const HERE = dirname(fileURLToPath(import.meta.url));
const MODULES = join(HERE, "node_modules");
const KINDS = {
  "monitoring.coreos.com/v1/PrometheusRule": [PrometheusRule, "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule.d.ts"],
  "v1/ConfigMap": [ConfigMap, "kubernetes-models/v1/ConfigMap.d.ts"],
  "v1/Secret": [Secret, "kubernetes-models/v1/Secret.d.ts"],
};

const parsed = new Map();

// The properties of the first interface a .d.ts declares: name -> type text, or null for a
// file that declares no interface (a string, a number, IntOrString: a leaf).
function properties(file) {
  if (parsed.has(file)) return parsed.get(file);
  const text = readFileSync(file, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(m[1], m[2]);
  const body = text.match(/^export interface \w+(?: extends TypeMeta)? \{\n([\s\S]*?)\n\}$/m);
  let props = null;
  if (body) {
    props = new Map();
    // a property: `    "name"?: Type;` or an inline map `    "name"?: {\n [key: string]: T;\n    };`
    const noComments = body[1].replace(/\/\*\*[\s\S]*?\*\//g, "");
    for (const m of noComments.matchAll(/^ {4}"([^"]+)"\??: ([^\n]*?);?$/gm)) props.set(m[1], m[2]);
  }
  const result = { props, imports, file };
  parsed.set(file, result);
  return result;
}

function resolve(from, typeName) {
  const spec = from.imports.get(typeName);
  if (!spec) return null; // string, number, boolean, a literal: a leaf
  const base = spec.startsWith(".") ? join(dirname(from.file), spec) : join(MODULES, spec);
  return base.replace(/\.js$/, "") + ".d.ts";
}

// Every key of value that the schema at (file) does not know, as paths.
function unknown(value, file, path) {
  if (file === null || value === null || typeof value !== "object") return [];
  const schema = properties(file);
  if (schema.props === null) return [];
  if (Array.isArray(value)) return [`${path}: a list where the schema has an object`];
  const found = [];
  for (const [key, item] of Object.entries(value)) {
    const type = schema.props.get(key);
    const where = path ? `${path}.${key}` : key;
    if (type === undefined) {
      found.push(`${where}: not a field of the schema (${[...schema.props.keys()].join(", ")})`);
    } else if (type === "{") {
      continue; // a map of free keys ([key: string]: string): labels, annotations, data
    } else {
      const array = type.match(/^Array<(\w+)>$/);
      const ref = resolve(schema, array ? array[1] : type);
      if (array && Array.isArray(item)) item.forEach((x, i) => found.push(...unknown(x, ref, `${where}[${i}]`)));
      else found.push(...unknown(item, ref, where));
    }
  }
  return found;
}

const manifests = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const [name, manifest] of manifests) {
  const kind = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!kind) {
    problems.push(`${name}: no published schema for ${manifest.apiVersion} ${manifest.kind}`);
    continue;
  }
  try {
    new kind[0](manifest).validate();
  } catch (err) {
    problems.push(`${name}: ${String(err.message).split("\n").join(" ")}`);
  }
  for (const p of unknown(manifest, join(MODULES, kind[1]), "")) problems.push(`${name}: ${p}`);
}
for (const p of problems) console.log(p);
console.log(`${manifests.length} manifests, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
