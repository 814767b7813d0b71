"""Every change gridflow makes to moto, in one place.

moto (pinned in requirements.txt) emulates the AWS APIs; these gaps stop it from running
this stack end to end, and each is closed here:

1. Lambda invocation needs Docker. ``LambdaFunction._invoke_lambda`` hands the invocation to the
   emulator's Lambda runtime (``lambda_runtime``), a process of its own that runs the handler
   imported from the function's *deployed zip*.
2. EventBridge rule targets of type Step Functions raise ``NotImplementedError`` (which
   S3 swallows). ``Rule.send_to_targets`` learns to start executions, honouring
   ``Input``/``InputPath``/``InputTransformer`` as EventBridge does, and a schedule rule
   (no event pattern) stops receiving every event.
3. ``StartExecution`` without a name gives an ARN ending in ``:None``; a name is filled in.
4. Step Functions Local's MockConfigFile (``SFN_MOCK_CONFIG``, ``<arn>#<TestCase>``) is
   half-present in moto's interpreter but never loaded; it is loaded here.
5. A Distributed Map whose child executions fail succeeds (moto counts the failures but ignores
   ``ToleratedFailureCount``/``Percentage``, both 0 by default); the Map Run now fails with
   ``States.ExceedToleratedFailureThreshold`` as on AWS.
6. A DynamoDB Query (without an index) sorts every item of the table to find one partition, iterating the live
   dicts: on a table of a million items it takes seconds and fails with HTTP 500 ("dictionary changed size during
   iteration") when another request writes meanwhile. It now reads its partition only, and every read of the
   items iterates a snapshot.
7. The interpreter makes a new client with ``boto3.client`` (boto3's default session, which is not thread-safe)
   for every task it runs, from every Map iteration's thread at once. It now gets one client a service and
   region, made under a lock (clients themselves are thread-safe). And when the Lambda runtime cannot be reached,
   the invocation answers ``ServiceException`` (HTTP 500), which the interpreter names ``Lambda.ServiceException``
   as AWS does, instead of an error page that would be no error name at all.

Terraform's extra Step Functions calls live in ``terraform_shims``. ``install()`` applies
all of them and ``check_internals()`` fails loudly if a moto upgrade moved what they rely on.
Faults for tests (``fault_injection``: a hook around each invocation in the runtime, and DynamoDB
BatchWriteItem answers) do nothing until a test writes a fault plan.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config
from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import LambdaClientError
from moto.core.config import default_user_config
from moto.dynamodb.models import table as dynamodb_table
from moto.events import models as events_models
from moto.stepfunctions.parser import models as sfn_parser_models
from moto.stepfunctions.parser.backend import execution as sfn_execution
from moto.stepfunctions.parser.mocking import mock_config as sfn_mock_config
from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name import failure_event as sfn_failure
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    distributed_iteration_component as sfn_distributed)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client

from gridflow.emulator import lambda_runtime, terraform_shims

LOG = logging.getLogger("gridflow.emulator")

MOCK_CONFIG_ENV = "SFN_MOCK_CONFIG"

_install_lock = threading.Lock()
_installed = False


def check_internals() -> None:
    """Raise if a moto internal that a patch replaces or calls is gone."""
    required: list[tuple[object, str]] = [
        (lambda_models.LambdaFunction, "_invoke_lambda"),
        (events_models.Rule, "send_to_targets"),
        (sfn_parser_models.StepFunctionsParserBackend, "start_execution"),
        (sfn_execution.Execution, "_get_start_execution_worker"),
        (sfn_mock_config, "MockTestCase"),
        (sfn_mock_config, "StateMockedResponses"),
        (sfn_mock_config, "MockedResponseReturn"),
        (sfn_mock_config, "MockedResponseThrow"),
        (sfn_distributed.DistributedIterationComponent, "_map_run"),
        (dynamodb_table.Table, "all_items"),
        (dynamodb_table.Table, "query"),
        (sfn_boto_client, "boto3"),
    ]
    missing = [f"{getattr(owner, '__name__', owner)}.{name}" for owner, name in required
               if not hasattr(owner, name)]
    if missing:
        raise RuntimeError(f"moto internals changed; gridflow's emulator patches need: {', '.join(missing)}")


def install() -> None:
    """Apply every patch once (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        check_internals()
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        _patch_lambda_invocation()
        _patch_eventbridge_stepfunctions_target()
        _patch_start_execution()
        _patch_distributed_map_failures()
        patch_dynamodb_reads()
        sfn_boto_client.boto3 = InterpreterClients()  # type: ignore[assignment]
        terraform_shims.install()
        _installed = True


# --------------------------------------------------------------------------------------
# 1. Lambda handlers run in the emulator's Lambda runtime, from the deployed zip
# --------------------------------------------------------------------------------------

class RuntimeUnreachable(LambdaClientError):
    """The Lambda service's own failure (AWS answers such with ServiceException, HTTP 500)."""

    code = 500

    def __init__(self, function_name: str, error: OSError) -> None:
        super().__init__("ServiceException", f"the Lambda runtime did not answer an invocation of "
                                             f"{function_name}: {type(error).__name__}: {error}")


def _invoke_in_runtime(self: lambda_models.LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
    try:
        body, is_error = lambda_runtime.post(lambda_runtime.request_for(self, event))
    except OSError as error:  # refused, reset, timed out: the runtime's trouble, not the handler's
        LOG.exception("invoking %s in the Lambda runtime failed", self.function_name)
        raise RuntimeUnreachable(self.function_name, error) from error
    return body, is_error, ""


def _patch_lambda_invocation() -> None:
    lambda_models.LambdaFunction._invoke_lambda = _invoke_in_runtime


# --------------------------------------------------------------------------------------
# 2. EventBridge rules deliver to Step Functions targets
# --------------------------------------------------------------------------------------

def _target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """The execution input EventBridge builds from the event for this target."""
    if "Input" in target:
        return target["Input"]
    if "InputPath" in target:
        from moto.utilities.utils import get_value_from_json_path  # noqa: PLC0415 - optional helper

        return json.dumps(get_value_from_json_path(target["InputPath"], event))
    transformer = target.get("InputTransformer")
    if transformer:
        return events_models.EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    return json.dumps(event, default=str)


def _start_target_executions(rule: events_models.Rule, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Start an execution for each Step Functions target; return the other targets."""
    from moto.stepfunctions.responses import get_backend  # noqa: PLC0415 - import cycle in moto

    others = []
    for target in rule.targets:
        arn = target["Arn"]
        if ":states:" not in arn or ":stateMachine:" not in arn:
            others.append(target)
            continue
        _, _, _, region, account, *_ = arn.split(":")
        get_backend(account, region).start_execution(
            arn, name=str(uuid.uuid4()), execution_input=_target_input(target, event)
        )
    return others


def _patch_eventbridge_stepfunctions_target() -> None:
    original = events_models.Rule.send_to_targets

    def send_to_targets(self: events_models.Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
        # A schedule rule has no event pattern, which moto matches against every event; on AWS it gets none.
        if self.scheduled_expression or not self.event_pattern.matches_event(original_event):
            return
        all_targets = self.targets
        others = _start_target_executions(self, original_event)
        if others:
            self.targets = others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = all_targets

    events_models.Rule.send_to_targets = send_to_targets


# --------------------------------------------------------------------------------------
# 3 + 4. Named executions and Step Functions Local's MockConfigFile
# --------------------------------------------------------------------------------------

_pending_test_case = threading.local()


def load_mock_test_case(path: Path, state_machine_name: str, test_case_name: str) -> sfn_mock_config.MockTestCase:
    """Read a Step Functions Local MockConfigFile and build moto's test case for it."""
    config = json.loads(path.read_text())
    machine = config.get("StateMachines", {}).get(state_machine_name)
    if machine is None:
        raise ValueError(f"{path}: no StateMachines.{state_machine_name}")
    test_case = machine.get("TestCases", {}).get(test_case_name)
    if test_case is None:
        raise ValueError(f"{path}: no test case {test_case_name!r} for {state_machine_name}")
    states = []
    for state_name, response_name in test_case.items():
        ranges = config.get("MockedResponses", {}).get(response_name)
        if not ranges:
            raise ValueError(f"{path}: no MockedResponses.{response_name}")
        responses = [_mocked_response(range_text, body) for range_text, body in ranges.items()]
        states.append(sfn_mock_config.StateMockedResponses(state_name, response_name, responses))
    return sfn_mock_config.MockTestCase(state_machine_name, test_case_name, states)


def _mocked_response(range_text: str, body: dict[str, Any]) -> sfn_mock_config.MockedResponse:
    start, _, end = range_text.partition("-")
    first, last = int(start), int(end or start)
    if "Return" in body:
        return sfn_mock_config.MockedResponseReturn(first, last, body["Return"])
    throw = body["Throw"]
    return sfn_mock_config.MockedResponseThrow(first, last, throw["Error"], throw.get("Cause", ""))


def _patch_start_execution() -> None:
    backend_class = sfn_parser_models.StepFunctionsParserBackend
    original_start = backend_class.start_execution
    original_worker = sfn_execution.Execution._get_start_execution_worker

    def start_execution(self: Any, state_machine_arn: str, name: str | None = None,
                        execution_input: str | None = None, trace_header: str | None = None) -> Any:
        base_arn, _, test_case_name = state_machine_arn.partition("#")
        test_case = None
        if test_case_name:
            config_path = os.environ.get(MOCK_CONFIG_ENV)
            if not config_path:
                raise ValueError(f"{state_machine_arn}: a test case needs {MOCK_CONFIG_ENV} set to a MockConfigFile")
            test_case = load_mock_test_case(Path(config_path), base_arn.rsplit(":", 1)[-1], test_case_name)
        _pending_test_case.value = test_case
        try:
            return original_start(self, base_arn, name or str(uuid.uuid4()), execution_input, trace_header)
        finally:
            _pending_test_case.value = None

    def get_start_execution_worker(self: Any) -> Any:
        worker = original_worker(self)
        worker._mock_test_case = getattr(_pending_test_case, "value", None)
        return worker

    backend_class.start_execution = start_execution
    sfn_execution.Execution._get_start_execution_worker = get_start_execution_worker


# --------------------------------------------------------------------------------------
# 5. A Distributed Map fails when more child executions fail than it tolerates
# --------------------------------------------------------------------------------------

def _patch_distributed_map_failures() -> None:
    original = sfn_distributed.DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original(self, env, eval_input)
        items = eval_input.map_run_record.item_counter
        total, failed = items.total.get(), items.failed.get() + items.timed_out.get()
        if failed > eval_input.tolerated_failure_count and \
                failed * 100.0 / max(total, 1) > eval_input.tolerated_failure_percentage:
            name = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
            cause = f"The Map Run failed: {failed} of {total} items failed, more than it tolerates."
            raise sfn_failure.FailureEventException(sfn_failure.FailureEvent(
                env=env, error_name=name, event_type=HistoryEventType.MapRunFailed,
                event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
                    error=name.error_name, cause=cause))))

    sfn_distributed.DistributedIterationComponent._map_run = map_run


# --------------------------------------------------------------------------------------
# 6. A DynamoDB Query reads its partition only, and reads never iterate dicts being written
# --------------------------------------------------------------------------------------

_query_partition = threading.local()
_INDEX_NAME_POSITION = 6  # Table.query(hash_key, range_comparison, range_objs, limit, exclusive_start_key,
#                           scan_index_forward, projection_expressions, index_name, ...)


def patch_dynamodb_reads() -> None:
    """Idempotent, so a test can apply this patch alone."""
    if getattr(dynamodb_table.Table.query, "gridflow_patched", False):
        return
    original_query = dynamodb_table.Table.query

    def all_items(self: Any) -> list[Any]:
        hash_key = getattr(_query_partition, "hash_key", None)
        if hash_key is None:
            partitions = list(self.items.values())
        else:
            partitions = [self.items[hash_key]] if hash_key in self.items else []
        items = [item for partition in partitions
                 for item in (list(partition.values()) if self.range_key_attr else [partition])]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[_INDEX_NAME_POSITION] if len(args) > _INDEX_NAME_POSITION else kwargs.get("index_name")
        if index_name is not None or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        _query_partition.hash_key = hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_partition.hash_key = None

    query.gridflow_patched = True  # type: ignore[attr-defined]
    dynamodb_table.Table.all_items = all_items
    dynamodb_table.Table.query = query


# --------------------------------------------------------------------------------------
# 7. The interpreter's AWS clients: one a service and region, made under a lock
# --------------------------------------------------------------------------------------

class InterpreterClients:
    """Stands in for the boto3 module in moto's Step Functions interpreter (its only use there is
    ``boto3.client(...)``): one client for each service, region and endpoint, made once from a session of its
    own under a lock, and shared by every task after that."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session = boto3.session.Session()
        self._clients: dict[tuple[Any, ...], Any] = {}

    def client(self, service_name: str, region_name: str, config: Config | None = None, **settings: str) -> Any:
        key = (service_name, region_name, *sorted(settings.items()))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(service_name, region_name=region_name, config=config,
                                                          **settings)
            return self._clients[key]
