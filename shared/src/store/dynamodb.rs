//! DynamoDB, one table. Layout (partition key `pk`, string; TTL attribute `expires_at`):
//!
//! | pk              | attributes                                                                  |
//! |-----------------|-----------------------------------------------------------------------------|
//! | `USER#<mobile>` | `kind`="user", `id`, `username`, `password_hash`, `created_at`, `token_version` |
//! | `SMS#<mobile>`  | `kind`="sms_code", `send_id`, `code_hash`, `purpose`, `attempts`, `code_expires_at`, `resend_at`, `expires_at` |
//! | `LIMIT#<kind>#<subject>#<window>` | `kind`="limit", `n` (the count), `expires_at` (the window's end) |
//! | `ONCE#<key>`    | `kind`="once", `expires_at`                                                  |
//!
//! A counter's key names its window, so an item of a past window never
//! counts again, whether TTL has deleted it yet or not. Subjects that are
//! personal data (client addresses, usernames) are keyed hashes.
//!
//! Users never expire. A code item lives until both its code and its resend
//! interval are over (`expires_at` = the later of the two); until DynamoDB's
//! TTL sweeper removes it, the conditions below compare the times themselves.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement, KeyType, Put,
    ReturnValue, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use super::{
    AccountStore, BeginSmsError, CodeClaim, CodeStore, ConsumeCodeError, Counter, CreateUserError, LimitStore,
    PendingCode, StoreError, StoredCode, UserStore,
};
use crate::clock::Clock as _;
use crate::domain::{Mobile, Purpose, User, UserId};

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

/// Counts one unless at the limit; sets the TTL to the window's end.
const COUNT_UPDATE: &str = "ADD n :one SET kind = :limit_kind, expires_at = :ends";
const COUNT_CONDITION: &str = "attribute_not_exists(pk) OR n < :limit";

fn count_values(counter: &Counter) -> Item {
    HashMap::from([
        (":one".to_owned(), n(1)),
        (":limit_kind".to_owned(), s("limit")),
        (":ends".to_owned(), n(counter.window_ends)),
        (":limit".to_owned(), n(counter.limit)),
    ])
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

    /// The transaction item that deletes the claimed code, if it is still
    /// the one claimed and usable: how a code is consumed in a transaction.
    fn consume_claimed_code(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<Delete, StoreError> {
        Delete::builder()
            .table_name(&self.table)
            .key("pk", code_key(mobile))
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_values(Some(claim_values(claim)))
            .build()
            .map_err(build_err)
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
        // Items written before purposes existed were sign-up codes.
        purpose: match item.get("purpose") {
            None => Purpose::Register,
            Some(_) => Purpose::parse(&get_s(item, "purpose")?)
                .map_err(|_| StoreError::new("stored purpose is not a known purpose"))?,
        },
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
        token_version: match item.get("token_version") {
            None => 0,
            Some(_) => get_n(item, "token_version")?,
        },
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
    async fn begin_sms(
        &self,
        mobile: &Mobile,
        pending: &PendingCode,
        counters: &[Counter],
        now: i64,
    ) -> Result<(), BeginSmsError> {
        // A sign-up code goes only to a free number; a login or reset code
        // only to a registered one.
        let user_condition = match pending.purpose.needs_registered_mobile() {
            true => "attribute_exists(pk)",
            false => "attribute_not_exists(pk)",
        };
        let user_check = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", user_key(mobile))
            .condition_expression(user_condition)
            .build()
            .map_err(build_err)?;
        let put_code = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                ("pk".to_owned(), code_key(mobile)),
                ("kind".to_owned(), s("sms_code")),
                ("send_id".to_owned(), s(&pending.send_id)),
                ("code_hash".to_owned(), s(&pending.code_hash)),
                ("purpose".to_owned(), s(pending.purpose.as_str())),
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
        let mut items = vec![
            TransactWriteItem::builder().condition_check(user_check).build(),
            TransactWriteItem::builder().put(put_code).build(),
        ];
        for counter in counters {
            let count = Update::builder()
                .table_name(&self.table)
                .key("pk", s(&counter.key))
                .update_expression(COUNT_UPDATE)
                .condition_expression(COUNT_CONDITION)
                .set_expression_attribute_values(Some(count_values(counter)))
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().update(count).build());
        }
        enum Refusal {
            UserCondition,
            TooFrequent,
            Limit(usize),
        }
        let failed = |c: &Option<String>| c.as_deref() == Some(CONDITION_FAILED);
        let outcome = self
            .transact(items, |codes| {
                if codes.first().is_some_and(failed) {
                    Outcome::Failed(Refusal::UserCondition)
                } else if codes.get(1).is_some_and(failed) {
                    Outcome::Failed(Refusal::TooFrequent)
                } else if let Some(i) = codes.iter().skip(2).position(failed) {
                    Outcome::Failed(Refusal::Limit(i))
                } else {
                    Outcome::Retry
                }
            })
            .await?;
        match outcome {
            Ok(()) => Ok(()),
            Err(Refusal::UserCondition) if pending.purpose.needs_registered_mobile() => {
                Err(BeginSmsError::NotRegistered)
            }
            Err(Refusal::UserCondition) => Err(BeginSmsError::Registered),
            Err(Refusal::Limit(counter)) => Err(BeginSmsError::LimitReached { counter }),
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

    async fn release_sms(&self, mobile: &Mobile, send_id: &str, counters: &[Counter]) -> Result<(), StoreError> {
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
            Ok(_) => {}
            // A newer code replaced ours: it is not ours to delete.
            Err(e) if is_condition_failed(&e) => {}
            Err(e) => return Err(store_err(e)),
        }
        // Whatever became of the code, this send texted nothing.
        for counter in counters {
            self.give_back(counter).await?;
        }
        Ok(())
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
        let consume_code = self.consume_claimed_code(&user.mobile, claim)?;
        let put_user = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                ("pk".to_owned(), user_key(&user.mobile)),
                ("kind".to_owned(), s("user")),
                ("id".to_owned(), s(&user.id.0)),
                ("username".to_owned(), s(user.username())),
                ("password_hash".to_owned(), s(&user.password_hash)),
                ("created_at".to_owned(), n(user.created_at)),
                ("token_version".to_owned(), n(user.token_version)),
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

    async fn consume_code(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", code_key(mobile))
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_values(Some(claim_values(claim)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Err(ConsumeCodeError::CodeGone),
            Err(e) => Err(ConsumeCodeError::Store(store_err(e))),
        }
    }

    async fn reset_password(&self, user: &User, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError> {
        let consume_code = self.consume_claimed_code(&user.mobile, claim)?;
        let set_password = Update::builder()
            .table_name(&self.table)
            .key("pk", user_key(&user.mobile))
            .update_expression("SET password_hash = :hash, token_version = :version")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":hash", s(&user.password_hash))
            .expression_attribute_values(":version", n(user.token_version))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().delete(consume_code).build(),
            TransactWriteItem::builder().update(set_password).build(),
        ];
        self.transact(items, |codes| match codes {
            [Some(c), _] if c == CONDITION_FAILED => Outcome::Failed(ConsumeCodeError::CodeGone),
            [_, Some(c)] if c == CONDITION_FAILED => Outcome::Failed(ConsumeCodeError::NotRegistered),
            _ => Outcome::Retry,
        })
        .await?
    }
}

#[async_trait::async_trait]
impl LimitStore for DynamoStore {
    async fn take(&self, counter: &Counter) -> Result<Option<u32>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&counter.key))
            .update_expression(COUNT_UPDATE)
            .condition_expression(COUNT_CONDITION)
            .set_expression_attribute_values(Some(count_values(counter)))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Some(get_n(out.attributes().unwrap_or(&HashMap::new()), "n")?)),
            Err(e) if is_condition_failed(&e) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

    async fn give_back(&self, counter: &Counter) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&counter.key))
            .update_expression("ADD n :minus_one")
            .condition_expression("attribute_exists(pk) AND n > :zero")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(store_err(e)),
        }
    }

    async fn first_time(&self, key: &str, expires_at: i64) -> Result<bool, StoreError> {
        let now = crate::clock::SystemClock.now();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                ("pk".to_owned(), s(&format!("ONCE#{key}"))),
                ("kind".to_owned(), s("once")),
                ("expires_at".to_owned(), n(expires_at)),
            ])))
            // An expired flag counts as absent, TTL-deleted or not.
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(store_err(e)),
        }
    }
}
