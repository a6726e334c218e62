//! DynamoDB, one table. Layout (partition key `pk`, string; TTL attribute `expires_at`):
//!
//! | pk              | attributes                                                                  |
//! |-----------------|-----------------------------------------------------------------------------|
//! | `USER#<mobile>` | `kind`="user", `id`, `username`, `password_hash`, `created_at`              |
//! | `SMS#<mobile>`  | `kind`="sms_code", `send_id`, `code_hash`, `attempts`, `code_expires_at`, `resend_at`, `expires_at` |
//!
//! Users never expire. A code item lives until both its code and its resend
//! interval are over (`expires_at` = the later of the two); until DynamoDB's
//! TTL sweeper removes it, the conditions below compare the times themselves.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement, KeyType, Put,
    ReturnValue, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;

use super::{
    AccountStore, BeginSmsError, CodeClaim, CodeStore, CreateUserError, PendingCode, StoreError, StoredCode, UserStore,
};
use crate::domain::{Mobile, User, UserId};

type Item = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    client: Client,
    table: String,
}

/// DynamoDB cancels a transaction that races another on the same item
/// (`TransactionConflict`); trying again reaches a definite answer.
const TRANSACTION_TRIES: usize = 4;

fn user_key(mobile: &Mobile) -> AttributeValue {
    AttributeValue::S(format!("USER#{}", mobile.as_str()))
}

fn code_key(mobile: &Mobile) -> AttributeValue {
    AttributeValue::S(format!("SMS#{}", mobile.as_str()))
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An SDK error as logs may show it: kind, error code and request id, never
/// DynamoDB's message (it can quote attribute values).
fn store_err<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata,
    SdkError<E, R>: aws_sdk_dynamodb::operation::RequestId,
{
    StoreError::new(crate::aws::SdkFailure::from_sdk(&e))
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::new(e)
}

fn get_s(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::new(format!("item attribute {name} is missing or not a string"))),
    }
}

fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => {
            v.parse().map_err(|_| StoreError::new(format!("item attribute {name} is not a valid number")))
        }
        _ => Err(StoreError::new(format!("item attribute {name} is missing or not a number"))),
    }
}

/// What each item of a cancelled transaction said, in order (`None` = it passed).
fn cancellation_codes(e: &TransactWriteItemsError) -> Option<Vec<Option<String>>> {
    match e {
        TransactWriteItemsError::TransactionCanceledException(c) => Some(
            c.cancellation_reasons().iter().map(|r| r.code().filter(|c| *c != "None").map(str::to_owned)).collect(),
        ),
        _ => None,
    }
}

const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// The condition under which a claim may touch a code item.
const CLAIM_CONDITION: &str = "send_id = :sid AND code_expires_at > :now AND attempts < :max";

fn claim_values(claim: CodeClaim<'_>) -> Item {
    HashMap::from([
        (":sid".to_owned(), s(claim.send_id)),
        (":now".to_owned(), n(claim.now)),
        (":max".to_owned(), n(claim.max_attempts)),
    ])
}

enum Outcome<E> {
    Failed(E),
    Retry,
}

impl DynamoStore {
    /// `client` should come from `crate::aws::dynamodb_client`, which bounds every call.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Creates the table with TTL on `expires_at` when it is missing: for
    /// moto or DynamoDB Local. Deployed Lambdas never call this (the table
    /// comes from template.yaml).
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(_) => return Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(store_err(e)),
        }
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build_err)?,
            )
            .key_schema(
                KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().map_err(build_err)?,
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Another process created it first: that is the goal reached.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
            Err(e) => return Err(store_err(e)),
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name("expires_at")
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn get(&self, key: AttributeValue) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key)
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err)?;
        Ok(out.item)
    }

    /// Runs a transaction, retrying on conflicts with concurrent transactions.
    /// `judge` turns the per-item cancellation codes into the caller's own
    /// refusal (the inner `Err`); the outer `Err` is a store failure.
    async fn transact<R>(
        &self,
        items: Vec<TransactWriteItem>,
        judge: impl Fn(&[Option<String>]) -> Outcome<R>,
    ) -> Result<Result<(), R>, StoreError> {
        let mut tries = 1;
        loop {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(Ok(())),
                Err(err) => err,
            };
            let codes = match &err {
                SdkError::ServiceError(service) => cancellation_codes(service.err()),
                _ => None,
            };
            match codes.map(|codes| judge(&codes)) {
                Some(Outcome::Failed(refusal)) => return Ok(Err(refusal)),
                Some(Outcome::Retry) if tries < TRANSACTION_TRIES => {
                    tokio::time::sleep(std::time::Duration::from_millis(10 * tries as u64)).await;
                    tries += 1;
                }
                _ => return Err(store_err(err)),
            }
        }
    }
}

fn code_from_item(item: &Item) -> Result<StoredCode, StoreError> {
    Ok(StoredCode {
        send_id: get_s(item, "send_id")?,
        code_hash: get_s(item, "code_hash")?,
        attempts: get_n(item, "attempts")?,
        code_expires_at: get_n(item, "code_expires_at")?,
        resend_at: get_n(item, "resend_at")?,
    })
}

fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let username = get_s(item, "username")?;
    Ok(User {
        id: UserId(get_s(item, "id")?),
        mobile: Mobile::parse(&username).map_err(|_| StoreError::new("stored username is not a mobile"))?,
        password_hash: get_s(item, "password_hash")?,
        created_at: get_n(item, "created_at")?,
    })
}

fn is_condition_failed<E: ProvideErrorMetadata>(e: &SdkError<E, impl std::fmt::Debug>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

#[async_trait::async_trait]
impl UserStore for DynamoStore {
    async fn find_user(&self, mobile: &Mobile) -> Result<Option<User>, StoreError> {
        self.get(user_key(mobile)).await?.as_ref().map(user_from_item).transpose()
    }
}

#[async_trait::async_trait]
impl CodeStore for DynamoStore {
    async fn begin_sms(&self, mobile: &Mobile, pending: &PendingCode, now: i64) -> Result<(), BeginSmsError> {
        let not_registered = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", user_key(mobile))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err)?;
        let put_code = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                ("pk".to_owned(), code_key(mobile)),
                ("kind".to_owned(), s("sms_code")),
                ("send_id".to_owned(), s(&pending.send_id)),
                ("code_hash".to_owned(), s(&pending.code_hash)),
                ("attempts".to_owned(), n(0)),
                ("code_expires_at".to_owned(), n(pending.code_expires_at)),
                ("resend_at".to_owned(), n(pending.resend_at)),
                ("expires_at".to_owned(), n(pending.expires_at())),
            ])))
            // An old item whose interval is over counts as absent, TTL-deleted or not.
            .condition_expression("attribute_not_exists(pk) OR resend_at <= :now")
            .expression_attribute_values(":now", n(now))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().condition_check(not_registered).build(),
            TransactWriteItem::builder().put(put_code).build(),
        ];
        enum Refusal {
            Registered,
            TooFrequent,
        }
        let outcome = self
            .transact(items, |codes| match codes {
                [Some(c), _] if c == CONDITION_FAILED => Outcome::Failed(Refusal::Registered),
                [_, Some(c)] if c == CONDITION_FAILED => Outcome::Failed(Refusal::TooFrequent),
                _ => Outcome::Retry,
            })
            .await?;
        match outcome {
            Ok(()) => Ok(()),
            Err(Refusal::Registered) => Err(BeginSmsError::Registered),
            Err(Refusal::TooFrequent) => {
                // Read when the interval ends, for Retry-After. If the item
                // vanished meanwhile, the caller may simply try again now.
                let resend_at = match self.get(code_key(mobile)).await? {
                    Some(item) => get_n(&item, "resend_at")?,
                    None => now,
                };
                Err(BeginSmsError::TooFrequent { resend_at })
            }
        }
    }

    async fn release_sms(&self, mobile: &Mobile, send_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", code_key(mobile))
            .condition_expression("send_id = :sid")
            .expression_attribute_values(":sid", s(send_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A newer code replaced ours: it is not ours to delete.
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(store_err(e)),
        }
    }

    async fn find_code(&self, mobile: &Mobile, now: i64) -> Result<Option<StoredCode>, StoreError> {
        let Some(item) = self.get(code_key(mobile)).await? else {
            return Ok(None);
        };
        let code = code_from_item(&item)?;
        Ok((code.code_expires_at > now).then_some(code))
    }

    async fn record_failed_attempt(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<Option<u32>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", code_key(mobile))
            .update_expression("ADD attempts :one")
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_values(Some(claim_values(claim)))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Some(get_n(out.attributes().unwrap_or(&HashMap::new()), "attempts")?)),
            Err(e) if is_condition_failed(&e) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

}

#[async_trait::async_trait]
impl AccountStore for DynamoStore {
    async fn create_user(&self, user: &User, claim: CodeClaim<'_>) -> Result<(), CreateUserError> {
        let consume_code = Delete::builder()
            .table_name(&self.table)
            .key("pk", code_key(&user.mobile))
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_values(Some(claim_values(claim)))
            .build()
            .map_err(build_err)?;
        let put_user = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                ("pk".to_owned(), user_key(&user.mobile)),
                ("kind".to_owned(), s("user")),
                ("id".to_owned(), s(&user.id.0)),
                ("username".to_owned(), s(user.username())),
                ("password_hash".to_owned(), s(&user.password_hash)),
                ("created_at".to_owned(), n(user.created_at)),
            ])))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().delete(consume_code).build(),
            TransactWriteItem::builder().put(put_user).build(),
        ];
        self.transact(items, |codes| match codes {
            [_, Some(c)] if c == CONDITION_FAILED => Outcome::Failed(CreateUserError::Registered),
            [Some(c), _] if c == CONDITION_FAILED => Outcome::Failed(CreateUserError::CodeGone),
            _ => Outcome::Retry,
        })
        .await?
    }
}
