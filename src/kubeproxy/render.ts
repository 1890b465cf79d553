// YAML output for generated configuration: one stream, documents separated by
// "---", keys in the order the planners build them, no line folding.
import YAML from 'yaml';

export function renderYamlDocuments(documents: readonly unknown[]): string {
  return documents.map((doc) => YAML.stringify(doc, { lineWidth: 0 })).join('---\n');
}
