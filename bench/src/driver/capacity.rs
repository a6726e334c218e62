//! Figure 5 (DynamoDB): the calls each route makes and the capacity units
//! the SDK reports for them, against moto.
//!
//! The store does not ask for `ReturnConsumedCapacity`, so a client
//! interceptor adds `TOTAL` to every item call and reads the answer back:
//! the store's own code runs unchanged. moto answers with fixed figures
//! (and none for transactions), so these units are moto's, not AWS's.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::delete_item::{DeleteItemInput, DeleteItemOutput};
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemInput, PutItemOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use bench::figures::emit;
use bench::fixtures::{self, CapturingSms, PASSWORD};
use serde_json::json;
use signup::store::DynamoStore;

use super::moto::Moto;

/// One DynamoDB call: its operation and the capacity units reported, if any.
type Call = (String, Option<f64>);

#[derive(Debug, Default, Clone)]
struct CapacityMeter {
    calls: Arc<Mutex<Vec<Call>>>,
    /// The operation of the call in flight: a route makes its calls one
    /// after another, so one slot is enough.
    in_flight: Arc<Mutex<&'static str>>,
}

impl CapacityMeter {
    fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn total(capacity: Option<&ConsumedCapacity>) -> Option<f64> {
    capacity.and_then(ConsumedCapacity::capacity_units)
}

fn sum(capacities: &[ConsumedCapacity]) -> Option<f64> {
    let units: Vec<f64> = capacities.iter().filter_map(ConsumedCapacity::capacity_units).collect();
    (!units.is_empty()).then(|| units.iter().sum())
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        let total = Some(ReturnConsumedCapacity::Total);
        let operation = if let Some(i) = input.downcast_mut::<GetItemInput>() {
            i.return_consumed_capacity = total;
            "GetItem"
        } else if let Some(i) = input.downcast_mut::<PutItemInput>() {
            i.return_consumed_capacity = total;
            "PutItem"
        } else if let Some(i) = input.downcast_mut::<UpdateItemInput>() {
            i.return_consumed_capacity = total;
            "UpdateItem"
        } else if let Some(i) = input.downcast_mut::<DeleteItemInput>() {
            i.return_consumed_capacity = total;
            "DeleteItem"
        } else if let Some(i) = input.downcast_mut::<TransactWriteItemsInput>() {
            i.return_consumed_capacity = total;
            "TransactWriteItems"
        } else {
            "other"
        };
        *self.in_flight.lock().unwrap_or_else(|p| p.into_inner()) = operation;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let call: Call = match context.output_or_error() {
            Ok(out) => {
                if let Some(o) = out.downcast_ref::<GetItemOutput>() {
                    ("GetItem".into(), total(o.consumed_capacity()))
                } else if let Some(o) = out.downcast_ref::<PutItemOutput>() {
                    ("PutItem".into(), total(o.consumed_capacity()))
                } else if let Some(o) = out.downcast_ref::<UpdateItemOutput>() {
                    ("UpdateItem".into(), total(o.consumed_capacity()))
                } else if let Some(o) = out.downcast_ref::<DeleteItemOutput>() {
                    ("DeleteItem".into(), total(o.consumed_capacity()))
                } else if let Some(o) = out.downcast_ref::<TransactWriteItemsOutput>() {
                    ("TransactWriteItems".into(), sum(o.consumed_capacity()))
                } else {
                    ("other".into(), None)
                }
            }
            // A refused condition or transaction: AWS still charges it, moto reports nothing.
            Err(_) => {
                let operation = *self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                (format!("{operation} (refused)"), None)
            }
        };
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push(call);
        Ok(())
    }
}

pub async fn run() -> Result<(), String> {
    let moto = Moto::start()?;
    let meter = CapacityMeter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config()).interceptor(meter.clone()).build();
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "signup"));
    store.ensure_table().await.map_err(|e| format!("creating the table on moto: {e}"))?;
    let sms = Arc::new(CapturingSms::default());
    let state = fixtures::service_state(store, sms.clone()).await;
    meter.take();

    let mobile = fixtures::mobile_number(4, 1);
    let unknown = fixtures::mobile_number(4, 2);
    let check = format!("/user/mobile/{mobile}/");
    let send = json!({ "mobile": mobile });
    let login = json!({ "username": mobile, "password": PASSWORD });
    let steps: Vec<(&str, lambda_http::Request, u16)> = vec![
        ("check_mobile_free", fixtures::get(&check), 200),
        ("send", fixtures::post_json("/user/sms/", &send), 200),
        ("send_too_frequent", fixtures::post_json("/user/sms/", &send), 429),
        ("register_wrong_code", register(&mobile, "000000"), 400),
    ];
    for (name, request, status) in steps {
        step(&state, &meter, name, request, status).await?;
    }
    let code = sms.code_for(&mobile).ok_or("the capturing SMS backend saw no code")?;
    let steps: Vec<(&str, lambda_http::Request, u16)> = vec![
        ("register", register(&mobile, &code), 201),
        ("check_mobile_taken", fixtures::get(&check), 409),
        ("send_registered", fixtures::post_json("/user/sms/", &send), 409),
        ("login", fixtures::post_json("/user/login/", &login), 200),
        (
            "login_unknown_user",
            fixtures::post_json("/user/login/", &json!({ "username": unknown, "password": PASSWORD })),
            401,
        ),
    ];
    for (name, request, status) in steps {
        step(&state, &meter, name, request, status).await?;
    }
    Ok(())
}

fn register(mobile: &str, code: &str) -> lambda_http::Request {
    fixtures::post_json("/user/register/", &json!({ "mobile": mobile, "password": PASSWORD, "sms_code": code }))
}

async fn step(
    state: &fixtures::ServiceState,
    meter: &CapacityMeter,
    name: &str,
    request: lambda_http::Request,
    want: u16,
) -> Result<(), String> {
    let (status, body) = fixtures::call(state, request).await;
    if status != want {
        return Err(format!("dynamodb {name}: expected {want}, got {status} {body}"));
    }
    let calls = meter.take();
    let names: Vec<&str> = calls.iter().map(|(op, _)| op.as_str()).collect();
    let reported: Vec<f64> = calls.iter().filter_map(|(_, units)| *units).collect();
    emit(format!("dynamodb.{name}.calls"), calls.len() as f64, &format!("calls: {}", names.join(" + ")));
    let units = (!reported.is_empty()).then(|| reported.iter().sum::<f64>());
    let unit = format!("capacity units moto reported for {} of {} calls", reported.len(), calls.len());
    emit(format!("dynamodb.{name}.capacity_units"), units, &unit);
    Ok(())
}
