//! AWS SNS `Publish` straight to a phone number, as a transactional SMS.

use aws_sdk_sns::error::ProvideErrorMetadata as _;
use aws_sdk_sns::operation::RequestId as _;
use aws_sdk_sns::types::MessageAttributeValue;

use super::{message_text, SmsError, SmsSender};
use crate::domain::{Mobile, Purpose, SmsCode};

pub struct SnsSender {
    client: aws_sdk_sns::Client,
}

impl SnsSender {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }
}

#[async_trait::async_trait]
impl SmsSender for SnsSender {
    async fn send_code(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        ttl_minutes: i64,
        purpose: Purpose,
    ) -> Result<(), SmsError> {
        // Transactional: delivered at higher priority, and not dropped by
        // the promotional-SMS opt-outs.
        let sms_type = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SmsError::Transport(Box::new(e)))?;
        self.client
            .publish()
            .phone_number(mobile.e164())
            .message(message_text(code, ttl_minutes, purpose))
            .message_attributes("AWS.SNS.SMS.SMSType", sms_type)
            .send()
            .await
            .map(drop)
            .map_err(|e| match e.as_service_error() {
                // SNS's own message echoes the phone number: only its code and
                // the request id (to find it in AWS's records) are kept.
                Some(service) => SmsError::Rejected {
                    code: service.code().unwrap_or("unknown").to_owned(),
                    message: format!("request id {}", e.request_id().unwrap_or("-")),
                },
                None => SmsError::Transport(Box::new(crate::aws::SdkFailure::from_sdk(&e))),
            })
    }
}
