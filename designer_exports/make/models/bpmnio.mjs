// Plain BPMN 2.0 as drawn on demo.bpmn.io (bpmn-js, no extension elements).

import { bpmnio } from '../dialects.mjs';

const DIR = 'bpmnio';

async function descriptive() {
  const m = bpmnio('bpmnio_descriptive');
  const p = m.process('bpmnio_descriptive', { name: 'Passport renewal (as is)', isExecutable: false });
  p.node('bpmn:StartEvent', 'start', { name: 'Passport expires' });
  p.node('bpmn:Task', 'book_visit', { name: 'Book a visit' });
  p.node('bpmn:Task', 'bring_papers', { name: 'Bring the papers' });
  p.node('bpmn:ExclusiveGateway', 'complete_gw', { name: 'Papers complete?' });
  p.node('bpmn:Task', 'issue', { name: 'Issue the passport' });
  p.node('bpmn:EndEvent', 'end', { name: 'Passport issued' });
  p.chain('start', 'book_visit', 'bring_papers', 'complete_gw');
  p.flow('complete_gw', 'issue', { name: 'yes' });
  p.flow('complete_gw', 'book_visit', { name: 'no' });
  p.flow('issue', 'end');
  return m.toXML();
}

async function pythonConditions() {
  const m = bpmnio('bpmnio_python_conditions');
  const p = m.process('bpmnio_python_conditions', { name: 'Grant by amount' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:UserTask', 'enter_amount', { name: 'Enter the amount' });
  p.node('bpmn:ExclusiveGateway', 'amount_gw', { name: 'Amount?' });
  p.node('bpmn:UserTask', 'board_review', { name: 'Board review' });
  p.node('bpmn:EndEvent', 'end_board', { name: 'Decided by the board' });
  p.node('bpmn:EndEvent', 'end_granted', { name: 'Granted' });
  p.chain('start', 'enter_amount', 'amount_gw');
  p.flow('amount_gw', 'board_review', { name: 'over 1000', condition: 'amount > 1000' });
  p.flow('amount_gw', 'end_granted', { name: 'up to 1000', condition: 'amount <= 1000' });
  p.flow('board_review', 'end_board');
  return m.toXML();
}

async function parallelInclusive() {
  const m = bpmnio('bpmnio_parallel_inclusive');
  const p = m.process('bpmnio_parallel_inclusive', { name: 'Checks in parallel' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:InclusiveGateway', 'which_checks', { name: 'Which checks?' });
  p.node('bpmn:ScriptTask', 'tax_check', { name: 'Tax check', scriptFormat: 'python', script: 'tax_ok = True' });
  p.node('bpmn:ScriptTask', 'police_check', { name: 'Police check', scriptFormat: 'python',
    script: 'police_ok = True' });
  p.node('bpmn:ScriptTask', 'health_check', { name: 'Health check', scriptFormat: 'python',
    script: 'health_ok = True' });
  p.node('bpmn:InclusiveGateway', 'checks_done');
  p.node('bpmn:ParallelGateway', 'split');
  p.node('bpmn:UserTask', 'sign', { name: 'Sign the licence' });
  p.node('bpmn:UserTask', 'print', { name: 'Print the card' });
  p.node('bpmn:ParallelGateway', 'join');
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'which_checks');
  p.flow('which_checks', 'tax_check', { condition: '"tax" in checks' });
  p.flow('which_checks', 'police_check', { condition: '"police" in checks' });
  p.flow('which_checks', 'health_check', { condition: '"health" in checks' });
  p.flow('tax_check', 'checks_done');
  p.flow('police_check', 'checks_done');
  p.flow('health_check', 'checks_done');
  p.chain('checks_done', 'split', 'sign', 'join', 'end');
  p.flow('split', 'print');
  p.flow('print', 'join');
  return m.toXML();
}

async function eventGateway() {
  const m = bpmnio('bpmnio_event_gateway');
  const reply = m.root('bpmn:Message', { id: m.id('Message', 'reply'), name: 'applicant_reply' });
  const p = m.process('bpmnio_event_gateway', { name: 'Wait for a reply or give up' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:EventBasedGateway', 'wait_gw', { name: 'What comes first?' });
  p.node('bpmn:IntermediateCatchEvent', 'reply_received', { name: 'Reply received' }).eventDefinitions = [
    m.event('bpmn:MessageEventDefinition', { messageRef: reply })];
  p.node('bpmn:IntermediateCatchEvent', 'reply_deadline', { name: '72 hours' }).eventDefinitions = [
    m.event('bpmn:TimerEventDefinition', { timeDuration: m.expression('PT72H') })];
  p.node('bpmn:EndEvent', 'end_replied', { name: 'Replied' });
  p.node('bpmn:EndEvent', 'end_closed', { name: 'Closed without reply' });
  p.chain('start', 'wait_gw');
  p.flow('wait_gw', 'reply_received');
  p.flow('wait_gw', 'reply_deadline');
  p.flow('reply_received', 'end_replied');
  p.flow('reply_deadline', 'end_closed');
  return m.toXML();
}

async function terminate() {
  const m = bpmnio('bpmnio_terminate');
  const p = m.process('bpmnio_terminate', { name: 'Withdrawal ends everything' });
  p.node('bpmn:StartEvent', 'start');
  p.node('bpmn:ParallelGateway', 'split');
  p.node('bpmn:UserTask', 'review', { name: 'Review the application' });
  p.node('bpmn:EndEvent', 'end_reviewed');
  p.node('bpmn:ScriptTask', 'record_withdrawal', { name: 'Record the withdrawal', scriptFormat: 'python',
    script: 'withdrawn = True' });
  p.node('bpmn:EndEvent', 'end_withdrawn', { name: 'Withdrawn' }).eventDefinitions = [
    m.event('bpmn:TerminateEventDefinition')];
  p.chain('start', 'split', 'review', 'end_reviewed');
  p.flow('split', 'record_withdrawal');
  p.flow('record_withdrawal', 'end_withdrawn');
  return m.toXML();
}

async function subprocessLoop() {
  const m = bpmnio('bpmnio_subprocess_loop');
  const p = m.process('bpmnio_subprocess_loop', { name: 'Embedded subprocess and a loop' });
  p.node('bpmn:StartEvent', 'start');
  const sub = p.sub('collect', { name: 'Collect the signatures' });
  sub.node('bpmn:StartEvent', 'collect_start');
  const ask = sub.node('bpmn:ScriptTask', 'ask_signature', { name: 'Ask for one more signature',
    scriptFormat: 'python', script: 'signatures = signatures + 1' });
  ask.loopCharacteristics = m.create('bpmn:StandardLoopCharacteristics', {
    loopCondition: m.expression('signatures < 3'),
  });
  sub.node('bpmn:EndEvent', 'collect_end');
  sub.chain('collect_start', 'ask_signature', 'collect_end');
  p.node('bpmn:UserTask', 'file', { name: 'File the signed form' });
  p.node('bpmn:EndEvent', 'end');
  p.chain('start', 'collect', 'file', 'end');
  return m.toXML();
}

async function errorEventSubprocess() {
  const m = bpmnio('bpmnio_error_event_subprocess');
  const invalid = m.root('bpmn:Error', { id: m.id('Error', 'invalid'), name: 'Invalid', errorCode: 'INVALID' });
  const p = m.process('bpmnio_error_event_subprocess', { name: 'Rejection through an error event subprocess' });
  p.node('bpmn:StartEvent', 'start');
  const validate = p.sub('validate', { name: 'Validate the application' });
  validate.node('bpmn:StartEvent', 'validate_start');
  validate.node('bpmn:ExclusiveGateway', 'valid_gw', { name: 'Valid?' });
  validate.node('bpmn:EndEvent', 'validate_ok');
  validate.node('bpmn:EndEvent', 'throw_invalid', { name: 'Invalid' }).eventDefinitions = [
    m.event('bpmn:ErrorEventDefinition', { errorRef: invalid })];
  validate.chain('validate_start', 'valid_gw');
  validate.flow('valid_gw', 'validate_ok', { condition: 'valid' });
  validate.flow('valid_gw', 'throw_invalid', { condition: 'not valid' });
  p.node('bpmn:UserTask', 'issue', { name: 'Issue the licence' });
  p.node('bpmn:EndEvent', 'end', { name: 'Issued' });
  p.chain('start', 'validate', 'issue', 'end');
  const handler = p.sub('on_invalid', { name: 'Handle rejection', triggeredByEvent: true });
  handler.node('bpmn:StartEvent', 'invalid_caught', { name: 'Invalid' }).eventDefinitions = [
    m.event('bpmn:ErrorEventDefinition', { errorRef: invalid })];
  handler.node('bpmn:ScriptTask', 'record_rejection', { name: 'Record the rejection', scriptFormat: 'python',
    script: 'rejected = True' });
  handler.node('bpmn:EndEvent', 'end_rejected', { name: 'Rejected' });
  handler.chain('invalid_caught', 'record_rejection', 'end_rejected');
  return m.toXML();
}

export default {
  [`${DIR}/descriptive.bpmn`]: descriptive,
  [`${DIR}/python_conditions.bpmn`]: pythonConditions,
  [`${DIR}/parallel_inclusive.bpmn`]: parallelInclusive,
  [`${DIR}/event_gateway.bpmn`]: eventGateway,
  [`${DIR}/terminate.bpmn`]: terminate,
  [`${DIR}/subprocess_loop.bpmn`]: subprocessLoop,
  [`${DIR}/error_event_subprocess.bpmn`]: errorEventSubprocess,
};
