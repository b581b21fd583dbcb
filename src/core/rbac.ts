/** RBAC wording shared by every "forbidden" message. Pure. */

/**
 * The `kubectl auth can-i` line that checks one permission. A subresource goes in
 * `--subresource` (`kubectl auth can-i create pods/exec` would ask about the pod named "exec").
 * `scope` is the namespace flag as typed after it: ` -n shop`, ` -A`, or '' for cluster scope.
 */
export function canICommand(verb: string, resource: string, scope: string): string {
  const [res, sub] = resource.split('/');
  return `kubectl auth can-i ${verb} ${res}${sub ? ` --subresource=${sub}` : ''}${scope}`;
}
