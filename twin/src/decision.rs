//! Decision rules: turn insights and state into command requests, which the twin then
//! validates against the schema before anything leaves it.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::analytics::Insight;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::maintenance::{survive_window, SetpointAdvice, SurvivalQuery};
use crate::sample::{SignalId, Timestamp};
use crate::schema::{CommandId, Schema};
use crate::state::TwinState;
use crate::twin::Twin;

/// A rule's request to send a command; the twin validates it and may refuse it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRequest {
    /// Which command.
    pub command: CommandId,
    /// The requested value.
    pub value: f64,
}

/// Decides on commands from new insights and the twin's state.
pub trait DecisionRule: Send {
    /// A stable name, used in the audit log and checked when a snapshot is restored.
    fn name(&self) -> &str;
    /// Look at the insights of the latest batch and the state at `now`; append requests.
    fn evaluate(
        &mut self,
        state: &TwinState,
        insights: &[Insight],
        now: Timestamp,
        out: &mut Vec<CommandRequest>,
    );
    /// The rule's state as JSON.
    fn save(&self) -> Result<serde_json::Value>;
    /// Replace the rule's state with a saved one.
    fn restore(&mut self, state: serde_json::Value) -> Result<()>;
}

/// Settings of a [`DerateRule`], by name; resolved against a schema by [`DerateRule::new`].
///
/// ```
/// use twin::decision::DerateConfig;
/// let cfg = DerateConfig { min_events: 5, ..DerateConfig::conveyor() };
/// assert_eq!(cfg.command, "set_speed");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerateConfig {
    /// The watched signal.
    pub signal: String,
    /// The command that sets the derated value (it must name a property).
    pub command: String,
    /// Abnormal insights needed within the window to act.
    pub min_events: usize,
    /// The window, s.
    pub window_s: f64,
    /// Each derate multiplies the current set-point by this factor, in (0, 1).
    pub factor: f64,
    /// The set-point is never derated below this.
    pub floor: f64,
    /// Time after a derate before the rule may act again, s.
    pub cooldown_s: f64,
}

impl DerateConfig {
    /// Settings for the built-in conveyor: three vibration events in six hours derate the
    /// belt by 20%, at most once a day, never below 1 m/s.
    pub fn conveyor() -> Self {
        DerateConfig {
            signal: "vibration".into(),
            command: "set_speed".into(),
            min_events: 3,
            window_s: 6.0 * 3600.0,
            factor: 0.8,
            floor: 1.0,
            cooldown_s: 24.0 * 3600.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct DerateState {
    events: VecDeque<i64>,
    last_action: Option<i64>,
    actions: u64,
}

/// Derates a set-point when abnormal insights on a signal persist.
///
/// "Persist" means at least `min_events` abnormal insights (anomalies or alarms) on the
/// signal within `window_s`. The rule then requests the set-point times `factor` (not
/// below `floor`), and waits `cooldown_s` before acting again.
#[derive(Debug, Clone)]
pub struct DerateRule {
    config: DerateConfig,
    signal: SignalId,
    command: CommandId,
    property: SignalId,
    state: DerateState,
}

impl DerateRule {
    /// Resolve a rule against a schema; fails on unknown names or invalid settings.
    pub fn new(schema: &Schema, config: DerateConfig) -> Result<Self> {
        let signal = schema.signal_id(&config.signal)?;
        let command = schema.command_id(&config.command)?;
        let property = schema.command_property(command).ok_or_else(|| {
            Error::InvalidInput(format!(
                "command {} sets no property to derate",
                config.command
            ))
        })?;
        if config.min_events == 0 || config.min_events > 1024 {
            return Err(Error::InvalidInput("min_events must be in 1..=1024".into()));
        }
        if !(config.factor > 0.0 && config.factor < 1.0) {
            return Err(Error::InvalidInput(format!(
                "factor must be in (0, 1), got {}",
                config.factor
            )));
        }
        for (name, v) in [
            ("window_s", config.window_s),
            ("cooldown_s", config.cooldown_s),
            ("floor", config.floor),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{name} must be finite and non-negative, got {v}"
                )));
            }
        }
        Ok(DerateRule {
            config,
            signal,
            command,
            property,
            state: DerateState::default(),
        })
    }

    /// How many times the rule has acted.
    pub fn actions(&self) -> u64 {
        self.state.actions
    }
}

impl DecisionRule for DerateRule {
    fn name(&self) -> &str {
        "derate_on_persistent_anomaly"
    }

    fn evaluate(
        &mut self,
        state: &TwinState,
        insights: &[Insight],
        now: Timestamp,
        out: &mut Vec<CommandRequest>,
    ) {
        let window = (self.config.window_s * 1e9) as i64;
        for ins in insights {
            if ins.signal != self.signal || !ins.kind.is_abnormal() {
                continue;
            }
            let ev = &mut self.state.events;
            ev.push_back(ins.time.0);
            while ev.len() > self.config.min_events {
                ev.pop_front();
            }
        }
        let ev = &self.state.events;
        let persistent = ev.len() >= self.config.min_events
            && matches!((ev.front(), ev.back()), (Some(a), Some(b)) if b - a <= window);
        if !persistent {
            return;
        }
        let cooled = self
            .state
            .last_action
            .is_none_or(|t| (now.0 - t) as f64 >= self.config.cooldown_s * 1e9);
        let current = state
            .desired(self.property)
            .or_else(|| state.reported(self.property));
        if let (true, Some(current)) = (cooled, current) {
            let target = (current * self.config.factor).max(self.config.floor);
            if target < current {
                out.push(CommandRequest {
                    command: self.command,
                    value: target,
                });
                self.state.last_action = Some(now.0);
                self.state.actions += 1;
                self.state.events.clear();
            }
        }
    }

    fn save(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.state)?)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        self.state = serde_json::from_value(state)?;
        Ok(())
    }
}

/// Advice for the asset, not yet a command: it becomes one only through
/// [`Recommendation::submit`], which runs it through the twin's command gate (limits, rate
/// limits), queues it for the [`DataConnection`](crate::connection::DataConnection) and
/// records it in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The command to send.
    pub command: String,
    /// Its value.
    pub value: f64,
    /// Who recommends it (recorded in the audit log as the requester).
    pub source: String,
    /// Why, in words.
    pub reason: String,
    /// The set-point advice behind it, if it came from a survival search.
    pub advice: Option<SetpointAdvice>,
}

impl Recommendation {
    /// Submit the recommendation to the twin at `time`: validated against the schema's
    /// limits and rate limits, and refused with the gate's typed error (logged, never
    /// sent) if unsafe; otherwise queued for sending and logged.
    ///
    /// ```
    /// use twin::decision::Recommendation;
    /// use twin::{ErrorKind, Timestamp, Twin};
    /// let mut twin = Twin::builder(twin::entity::ConveyorDrive::standard_schema()).build()?;
    /// let unsafe_rec = Recommendation {
    ///     command: "set_speed".into(),
    ///     value: 4.0, // above the command's 2.5 m/s limit
    ///     source: "advisor".into(),
    ///     reason: "test".into(),
    ///     advice: None,
    /// };
    /// let e = unsafe_rec.submit(&mut twin, Timestamp(0)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::OutOfRange);
    /// assert!(twin.pending_commands().is_empty());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn submit(&self, twin: &mut Twin, time: Timestamp) -> Result<Command> {
        twin.command_as(&self.command, self.value, time, &self.source)
    }
}

/// Advise the set-point that lets the twin's asset survive to its next maintenance window:
/// [`survive_window`] on the twin's model from its current estimate (the twin is not
/// touched), as a [`Recommendation`] for `command`. When the normal set-point (`hi`)
/// already survives, the advice is to keep it.
///
/// Errors: the twin has no model or its model cannot run forward
/// ([`Error::InvalidInput`]), and those of [`survive_window`].
///
/// ```
/// use twin::decision::advise_survival;
/// use twin::maintenance::SurvivalQuery;
/// use twin::model::ConveyorModel;
/// use twin::whatif::Scenario;
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let model = ConveyorModel::new(&schema, Default::default())?;
/// let twin = twin::Twin::builder(schema).model(model).build()?;
/// let q = SurvivalQuery {
///     scenario: Scenario::new(40.0 * 86_400.0, 3_600.0).paths(100, 1),
///     input: "speed_setpoint".into(),
///     lo: 0.5,
///     hi: 2.0,
///     confidence: 0.9,
/// };
/// let rec = advise_survival(&twin, &q, "set_speed")?;
/// assert!(rec.value < 2.0);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn advise_survival(
    twin: &Twin,
    query: &SurvivalQuery,
    command: &str,
) -> Result<Recommendation> {
    let fm = twin.forward_model()?;
    twin.schema().command_id(command)?;
    let advice = survive_window(fm.as_ref(), query)?;
    let days = query.scenario.horizon_s / 86_400.0;
    let reason = if advice.value >= query.hi {
        format!(
            "{} = {} survives the next {days:.1} days with probability {:.3}",
            query.input, advice.value, advice.survival
        )
    } else {
        format!(
            "{} = {} survives only with probability {:.3}; {:.4} survives the next {days:.1} days with probability {:.3}",
            query.input, query.hi, advice.survival_at_hi, advice.value, advice.survival
        )
    };
    Ok(Recommendation {
        command: command.to_string(),
        value: advice.value,
        source: "advisor:survive_window".into(),
        reason,
        advice: Some(advice),
    })
}
