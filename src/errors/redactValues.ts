/**
 * graphql-js's parse, validation and coercion messages quote the values a document or its
 * variables carried ("found Int \"199801017790\"", "found \"Magnus Viklöf\"", "got invalid value
 * ..."), and a value may be a personnummer or a name. Before any message reaches a partner or a
 * log, those quotations are replaced; names of fields, types, arguments and variables stay, so
 * the message still says what was wrong and where.
 */
const REDACTIONS: ReadonlyArray<readonly [RegExp, string]> = [
  // The lexer's and parser's token descriptions: Syntax Error: Expected Name, found Int "1998…".
  [/\b(Int|Float|String|BlockString) "(?:[^"\\]|\\.)*"/g, '$1 (value not shown)'],
  // ValuesOfCorrectTypeRule: Expected value of type "T", found <printed value>[; <the scalar's or enum's own message>].
  [/^(Expected value of type "[^"]*"), found [\s\S]*$/, '$1; the value given is not shown.'],
  // Coercion of a variable: Variable "$x" got invalid value <value>; <reason quoting it again>.
  [/^(Variable "\$[_A-Za-z][_0-9A-Za-z]*" got invalid value)[\s\S]*$/, '$1 (not shown).'],
  // KnownEnumValue-style refusals of an enum literal (a Name token, but the request's value all the same), with their suggestions.
  [/^Value "(?:[^"\\]|\\.)*" does not exist in ("[^"]*" enum\.)[\s\S]*$/, 'A value given does not exist in $1'],
  // An enum's or scalar's own refusal quoted alone.
  [/(cannot represent (?:non-[a-z]+ |an? [a-z ]+)?value)[:\s][\s\S]*$/, '$1 (not shown).'],
];

export function redactValues(message: string): string {
  let redacted = message;
  for (const [pattern, replacement] of REDACTIONS) redacted = redacted.replace(pattern, replacement);
  return redacted;
}
