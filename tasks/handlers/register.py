"""Register File handler."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventBridgeNotificationEvent

from tasks.adapters.settings import Settings
from tasks.handlers.observability import step_handler
from tasks.steps.register_file import register_file


@step_handler("Register")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    notification = S3EventBridgeNotificationEvent(event["event"])
    rerun = bool(event["event"].get("rerun", False))  # set by `gridflow rerun` or a console rerun
    # The key as delivered, not Powertools' `.key`, which URL-decodes it: EventBridge's S3 events carry the key
    # as stored, so decoding would turn 'a+b%41.csv' into 'a bA.csv'; register_file also finds an encoded key.
    return register_file(notification.detail.bucket.name, notification.detail.object["key"], rerun,
                         event["execution"], Settings.from_env())
