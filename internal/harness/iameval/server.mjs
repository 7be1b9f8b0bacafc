// The sandbox's IAM evaluator: one JSON request per line on stdin, one JSON answer per line
// on stdout, matched by id (internal/harness/iameval/eval.go is the only client). Answers may
// come out of order; every request gets exactly one answer.
//
// Request: {"id", "principal", "action", "resource", "account", "context": {key: [values]},
//           "identity": [{"name", "policy"}], "boundary": [{"name", "policy"}]|null,
//           "resourcePolicy": policy|null}
// Answer:  {"id", "decision": "Allowed"|"ImplicitlyDenied"|"ExplicitlyDenied",
//           "ignored": [context keys the action does not take], "error": "..."}
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const answer = (a) => process.stdout.write(JSON.stringify(a) + '\n')

async function evaluate(req) {
  const simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.account },
      contextVariables: req.context || {},
    },
    identityPolicies: req.identity || [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy || undefined,
    permissionBoundaryPolicies: req.boundary && req.boundary.length ? req.boundary : undefined,
  }
  const out = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (out.resultType === 'error') {
    return { error: out.errors.message + ': ' + JSON.stringify(out.errors) }
  }
  const ignored = out.resultType === 'single' ? out.result.ignoredContextKeys || [] : []
  return { decision: out.overallResult, ignored }
}

createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  let req
  try {
    req = JSON.parse(line)
  } catch (e) {
    answer({ id: -1, error: 'bad request line: ' + e.message })
    return
  }
  evaluate(req).then(
    (a) => answer({ id: req.id, ...a }),
    (e) => answer({ id: req.id, error: String(e && e.stack ? e.stack : e) }),
  )
})
