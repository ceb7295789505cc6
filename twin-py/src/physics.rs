//! The built-in physics models from Python: each asset as a digital model (`ConveyorModel`,
//! `ThermalModel`, `BatteryModel`, `PumpModel`, `WindTurbineModel`: settings, its standard
//! schema, a what-if run from its initial estimate, and the `model=` of a `twin.Twin`) and
//! as a simulated physical entity (`ConveyorDrive`, `ThermalMass`, `BatteryCell`,
//! `PumpDrive`, `WindTurbine`: advance a step, sense, actuate through a command gate).
//!
//! Settings are the Rust configuration structs' serde fields, given as a `config` dict or
//! keyword arguments merged over the defaults.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde::{Deserialize, Serialize};
use twin::analytics::estimate::BatteryCircuit;
use twin::command::CommandGate;
use twin::entity::{ConveyorConfig, ConveyorDrive, PhysicalEntity};
use twin::model::{ConveyorModel, DigitalModel};
use twin::physics::{
    BatteryCell, BatteryModel, PumpConfig, PumpDrive, PumpModel, ThermalConfig, ThermalMass,
    ThermalModel, WindConfig, WindTurbine, WindTurbineModel,
};
use twin::{SampleBatch, Schema, TwinBuilder};

use crate::errors::{invalid_input, lock_or_raise, to_py, twin_error};
use crate::schema::PySchema;
use crate::whatif::{merge_config, run_forward, scenario_arg, to_python, PyWhatIfResult};

/// A built-in digital model's kind and settings: what a Python model object carries.
#[derive(Clone, Debug)]
pub(crate) enum ModelSpec {
    /// `twin::model::ConveyorModel`.
    Conveyor(ConveyorConfig),
    /// `twin::physics::ThermalModel`.
    Thermal(ThermalConfig),
    /// `twin::physics::BatteryModel`.
    Battery(BatteryCircuit),
    /// `twin::physics::PumpModel`.
    Pump(PumpConfig),
    /// `twin::physics::WindTurbineModel`.
    Wind(WindConfig),
}

impl ModelSpec {
    /// The asset's standard schema.
    pub(crate) fn standard_schema(&self) -> Schema {
        match self {
            ModelSpec::Conveyor(_) => ConveyorDrive::standard_schema(),
            ModelSpec::Thermal(_) => ThermalMass::standard_schema(),
            ModelSpec::Battery(_) => BatteryCell::standard_schema(),
            ModelSpec::Pump(_) => PumpDrive::standard_schema(),
            ModelSpec::Wind(_) => WindTurbine::standard_schema(),
        }
    }

    /// The model on `schema` (which must have the model's signals).
    pub(crate) fn build(&self, schema: &Schema) -> twin::Result<Box<dyn DigitalModel>> {
        Ok(match self {
            ModelSpec::Conveyor(c) => Box::new(ConveyorModel::new(schema, c.clone())?),
            ModelSpec::Thermal(c) => Box::new(ThermalModel::new(schema, c.clone())?),
            ModelSpec::Battery(c) => Box::new(BatteryModel::new(schema, c.clone())?),
            ModelSpec::Pump(c) => Box::new(PumpModel::new(schema, c.clone())?),
            ModelSpec::Wind(c) => Box::new(WindTurbineModel::new(schema, c.clone())?),
        })
    }

    /// `builder` with this model on `schema`.
    pub(crate) fn attach(
        &self,
        builder: TwinBuilder,
        schema: &Schema,
    ) -> twin::Result<TwinBuilder> {
        Ok(match self {
            ModelSpec::Conveyor(c) => builder.model(ConveyorModel::new(schema, c.clone())?),
            ModelSpec::Thermal(c) => builder.model(ThermalModel::new(schema, c.clone())?),
            ModelSpec::Battery(c) => builder.model(BatteryModel::new(schema, c.clone())?),
            ModelSpec::Pump(c) => builder.model(PumpModel::new(schema, c.clone())?),
            ModelSpec::Wind(c) => builder.model(WindTurbineModel::new(schema, c.clone())?),
        })
    }

    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            ModelSpec::Conveyor(c) => to_python(py, c),
            ModelSpec::Thermal(c) => to_python(py, c),
            ModelSpec::Battery(c) => to_python(py, c),
            ModelSpec::Pump(c) => to_python(py, c),
            ModelSpec::Wind(c) => to_python(py, c),
        }
    }

    fn forward(&self) -> PyResult<Box<dyn twin::whatif::ForwardModel>> {
        let model = self.build(&self.standard_schema()).map_err(to_py)?;
        model
            .forward()
            .ok_or_else(|| invalid_input(format!("model {} cannot run forward", model.name())))
    }
}

/// The model settings of a Python model object (`model=` of `Twin`, `survive_window`).
pub(crate) fn model_spec(arg: &str, obj: &Bound<'_, PyAny>) -> PyResult<ModelSpec> {
    if let Ok(m) = obj.cast::<PyConveyorModel>() {
        return Ok(m.get().spec.clone());
    }
    if let Ok(m) = obj.cast::<PyThermalModel>() {
        return Ok(m.get().spec.clone());
    }
    if let Ok(m) = obj.cast::<PyBatteryModel>() {
        return Ok(m.get().spec.clone());
    }
    if let Ok(m) = obj.cast::<PyPumpModel>() {
        return Ok(m.get().spec.clone());
    }
    if let Ok(m) = obj.cast::<PyWindTurbineModel>() {
        return Ok(m.get().spec.clone());
    }
    Err(invalid_input(format!(
        "{arg} must be a ConveyorModel, ThermalModel, BatteryModel, PumpModel or WindTurbineModel, not {}",
        obj.get_type().name()?
    )))
}

macro_rules! model_class {
    ($py:ident, $name:literal, $variant:ident, $cfg:ty, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(frozen, name = $name, module = "twin")]
        pub struct $py {
            pub(crate) spec: ModelSpec,
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (config=None, **kwargs))]
            fn new(
                config: Option<&Bound<'_, PyAny>>,
                kwargs: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<Self> {
                let c: $cfg = merge_config("config", config, kwargs)?;
                let spec = ModelSpec::$variant(c);
                spec.build(&spec.standard_schema()).map_err(to_py)?;
                Ok($py { spec })
            }

            /// The settings, as a dict of the Rust configuration's fields.
            #[getter]
            fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                self.spec.config(py)
            }

            /// The asset's standard schema (telemetry, set-point properties, commands).
            #[staticmethod]
            fn standard_schema() -> PySchema {
                PySchema::from_schema(ModelSpec::$variant(Default::default()).standard_schema())
            }

            /// The model's name.
            #[getter]
            fn name(&self) -> PyResult<String> {
                Ok(self.spec.forward()?.name().to_string())
            }

            /// Names of the state variables a what-if run reports and faults may set.
            #[getter]
            fn state_names(&self) -> PyResult<Vec<&'static str>> {
                Ok(self.spec.forward()?.state_names().to_vec())
            }

            /// Names of the inputs a scenario may set.
            #[getter]
            fn input_names(&self) -> PyResult<Vec<&'static str>> {
                Ok(self.spec.forward()?.input_names().to_vec())
            }

            /// Names of the parameters a fault may scale.
            #[getter]
            fn parameter_names(&self) -> PyResult<Vec<&'static str>> {
                Ok(self.spec.forward()?.parameter_names().to_vec())
            }

            /// Run the model forward from its initial estimate (a new asset) under
            /// ``scenario`` (a :class:`WhatIfScenario`, dict or JSON), with the GIL
            /// released. A twin's current estimate is used by :meth:`Twin.what_if`.
            /// ``progress``: a callable ``progress(done, total)`` (time steps) or
            /// ``True`` for a tqdm bar; Ctrl-C raises ``KeyboardInterrupt``.
            #[pyo3(signature = (scenario, *, progress=None))]
            fn what_if<'py>(
                &self,
                py: Python<'py>,
                scenario: &Bound<'py, PyAny>,
                progress: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<PyWhatIfResult> {
                let s = scenario_arg(scenario)?;
                let fm = self.spec.forward()?;
                run_forward(py, fm.as_ref(), &s, progress)
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
                let cls = py.get_type::<$py>().into_any();
                Ok((cls, PyTuple::new(py, [self.spec.config(py)?])?))
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                Ok(format!("{}({})", $name, self.spec.config(py)?.repr()?))
            }
        }
    };
}

model_class!(
    PyConveyorModel,
    "ConveyorModel",
    Conveyor,
    ConveyorConfig,
    "The conveyor drive's digital model (bearing wear by load and speed).\n\n>>> import twin\n>>> m = twin.ConveyorModel()\n>>> m.state_names\n['wear']\n>>> 'speed_setpoint' in m.input_names\nTrue"
);
model_class!(
    PyThermalModel,
    "ThermalModel",
    Thermal,
    ThermalConfig,
    "A first-order thermal mass, ``C dT/dt = P - (T - T_amb) / R``, as a digital model.\n\n>>> import twin\n>>> m = twin.ThermalModel(resistance=0.05, capacitance=20000.0)\n>>> m.config['resistance']\n0.05"
);
model_class!(
    PyBatteryModel,
    "BatteryModel",
    Battery,
    BatteryCircuit,
    "A battery cell (the ``BatteryCircuit`` equivalent circuit) as a digital model.\n\n>>> import twin\n>>> 'current' in twin.BatteryModel().input_names\nTrue"
);
model_class!(
    PyPumpModel,
    "PumpModel",
    Pump,
    PumpConfig,
    "A centrifugal pump (flow, head, efficiency, impeller wear) as a digital model.\n\n>>> import twin\n>>> 'wear' in twin.PumpModel().state_names\nTrue"
);
model_class!(
    PyWindTurbineModel,
    "WindTurbineModel",
    Wind,
    WindConfig,
    "A wind turbine (power curve, blade fatigue by Miner's rule) as a digital model.\n\n>>> import twin\n>>> m = twin.WindTurbineModel(weibull_scale=9.0)\n>>> 'damage' in m.state_names and 'derate' in m.input_names\nTrue"
);

/// A simulated entity behind a lock, with the command gate that checks what it is told.
struct Sim<E> {
    entity: E,
    gate: CommandGate,
    scan: SampleBatch,
}

/// What a pickled entity carries: the entity's full serde state and its command gate's
/// (the last command values and times its rate limits compare against).
#[derive(Serialize)]
struct SimStateRef<'a, E> {
    entity: &'a E,
    gate: &'a CommandGate,
}

/// [`SimStateRef`] read back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimState<E> {
    entity: E,
    gate: CommandGate,
}

fn lock<E>(m: &Mutex<Sim<E>>) -> PyResult<std::sync::MutexGuard<'_, Sim<E>>> {
    lock_or_raise(m, "entity")
}

/// `advance`, `sense`, `actuate` and the properties every entity class shares.
fn sense_dict<'py, E: PhysicalEntity>(
    py: Python<'py>,
    sim: &mut Sim<E>,
) -> PyResult<Bound<'py, PyDict>> {
    let Sim { entity, scan, .. } = sim;
    scan.clear();
    entity.sense(scan);
    let d = PyDict::new(py);
    let schema = entity.schema();
    for s in scan.iter() {
        d.set_item(schema.signal_name(s.signal), s.value)?;
    }
    Ok(d)
}

fn actuate<E: PhysicalEntity>(sim: &mut Sim<E>, command: &str, value: f64) -> PyResult<()> {
    let Sim { entity, gate, .. } = sim;
    let schema = entity.schema().clone();
    let id = schema.command_id(command).map_err(to_py)?;
    let cmd = gate
        .validate(&schema, id, value, entity.now())
        .map_err(to_py)?;
    entity.actuate(&cmd).map_err(to_py)
}

/// The pickled state of an entity as JSON.
fn state_json<E: Serialize>(sim: &Sim<E>) -> PyResult<String> {
    serde_json::to_string(&SimStateRef {
        entity: &sim.entity,
        gate: &sim.gate,
    })
    .map_err(|e| to_py(twin::Error::Serialization(e.to_string())))
}

/// An entity and gate from pickled JSON; `check` re-validates the entity's settings.
fn state_from_json<E: PhysicalEntity + for<'de> Deserialize<'de>>(
    class: &str,
    json: &str,
    check: impl Fn(&E) -> twin::Result<()>,
) -> PyResult<Sim<E>> {
    let st: SimState<E> = serde_json::from_str(json)
        .map_err(|e| to_py(twin::Error::Serialization(format!("{class} state: {e}"))))?;
    check(&st.entity).map_err(to_py)?;
    Ok(Sim {
        entity: st.entity,
        gate: st.gate,
        scan: SampleBatch::new(),
    })
}

macro_rules! entity_class {
    ($py:ident, $name:literal, $ty:ty, $cfg:ty, $make:expr, $check:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(frozen, name = $name, module = "twin")]
        pub struct $py {
            sim: Mutex<Sim<$ty>>,
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (seed=0, config=None, **kwargs))]
            fn new(
                seed: u64,
                config: Option<&Bound<'_, PyAny>>,
                kwargs: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<Self> {
                let c: $cfg = merge_config("config", config, kwargs)?;
                let entity: $ty = ($make)(seed, c).map_err(to_py)?;
                let gate = CommandGate::new(PhysicalEntity::schema(&entity));
                Ok($py {
                    sim: Mutex::new(Sim {
                        entity,
                        gate,
                        scan: SampleBatch::new(),
                    }),
                })
            }

            /// Advance the simulation by ``dt_s`` seconds (the GIL is released).
            fn advance(&self, py: Python<'_>, dt_s: f64) -> PyResult<()> {
                let sim = &self.sim;
                let r = py.detach(|| {
                    sim.lock()
                        .map(|mut s| s.entity.advance(dt_s))
                        .map_err(|_| ())
                });
                match r {
                    Ok(done) => done.map_err(to_py),
                    Err(()) => Err(twin_error(
                        "this entity is unusable: an earlier call panicked",
                    )),
                }
            }

            /// One scan of the sensors: a dict of signal name to measured value.
            fn sense<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                sense_dict(py, &mut *lock(&self.sim)?)
            }

            /// Carry out ``command`` with ``value`` now, after the schema's command gate
            /// (limits, rate limits): an unsafe command raises the mapped error and is not
            /// carried out.
            fn actuate(&self, command: &str, value: f64) -> PyResult<()> {
                actuate(&mut *lock(&self.sim)?, command, value)
            }

            /// The simulation time, ns.
            #[getter]
            fn now(&self) -> PyResult<i64> {
                Ok(lock(&self.sim)?.entity.now().0)
            }

            /// Whether the asset has failed.
            #[getter]
            fn failed(&self) -> PyResult<bool> {
                Ok(lock(&self.sim)?.entity.failed())
            }

            /// The entity's schema.
            #[getter]
            fn schema(&self) -> PyResult<PySchema> {
                Ok(PySchema::from_schema(
                    lock(&self.sim)?.entity.schema().clone(),
                ))
            }

            /// The entity's full state (physics, time, noise generator position and the
            /// command gate's rate-limit memory) as JSON, which :meth:`from_state` restores
            /// and pickling uses.
            fn state_json(&self) -> PyResult<String> {
                state_json(&*lock(&self.sim)?)
            }

            /// An entity restored from :meth:`state_json`: it continues with exactly the
            /// samples the original would give. Malformed or invalid state raises
            /// :class:`SerializationError` or the settings' error.
            #[staticmethod]
            fn from_state(json: &str) -> PyResult<Self> {
                Ok($py {
                    sim: Mutex::new(state_from_json::<$ty>($name, json, $check)?),
                })
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
                let restore = py.get_type::<$py>().getattr("from_state")?;
                Ok((restore, PyTuple::new(py, [self.state_json()?])?))
            }

            fn __repr__(&self) -> PyResult<String> {
                let s = lock(&self.sim)?;
                Ok(format!(
                    "{}(now={}, failed={})",
                    $name,
                    s.entity.now().0,
                    s.entity.failed()
                ))
            }
        }
    };
}

entity_class!(
    PyConveyorDrive,
    "ConveyorDrive",
    ConveyorDrive,
    ConveyorConfig,
    ConveyorDrive::with_config,
    |e: &ConveyorDrive| ConveyorDrive::with_config(0, e.config().clone()).map(drop),
    "A simulated conveyor drive.\n\n>>> import twin\n>>> d = twin.ConveyorDrive(seed=1)\n>>> d.advance(60.0)\n>>> sorted(d.sense())[:2]\n['belt_speed', 'load']"
);
entity_class!(
    PyThermalMass,
    "ThermalMass",
    ThermalMass,
    ThermalConfig,
    ThermalMass::new,
    |e: &ThermalMass| e.config().validate(),
    "A simulated first-order thermal mass with a heater (``set_power``).\n\n>>> import twin\n>>> m = twin.ThermalMass(seed=1)\n>>> m.actuate('set_power', 500.0)\n>>> m.advance(600.0)\n>>> m.sense()['temperature'] > m.sense()['ambient']\nTrue"
);
entity_class!(
    PyBatteryCell,
    "BatteryCell",
    BatteryCell,
    BatteryCircuit,
    BatteryCell::new,
    |e: &BatteryCell| e.circuit().params().validate(),
    "A simulated battery cell (the ``BatteryCircuit`` equations). It pickles with its full state.\n\n>>> import twin\n>>> b = twin.BatteryCell(seed=1)\n>>> b.actuate('set_current', 1.0)\n>>> b.advance(60.0)\n>>> s = b.sense()\n>>> s['current'], 3.2 < s['voltage'] < 4.3\n(1.0, True)"
);
entity_class!(
    PyPumpDrive,
    "PumpDrive",
    PumpDrive,
    PumpConfig,
    PumpDrive::new,
    |e: &PumpDrive| e.config().validate(),
    "A simulated centrifugal pump whose impeller wears. It pickles with its full state.\n\n>>> import twin\n>>> p = twin.PumpDrive(seed=1)\n>>> p.actuate('set_speed', 1450.0)\n>>> p.advance(60.0)\n>>> s = p.sense()\n>>> s['speed'], s['flow'] > 0 and s['head'] > 0\n(1450.0, True)"
);
entity_class!(
    PyWindTurbine,
    "WindTurbine",
    WindTurbine,
    WindConfig,
    WindTurbine::new,
    |e: &WindTurbine| e.config().validate(),
    "A simulated wind turbine whose blades accumulate fatigue damage. It pickles with its full state.\n\n>>> import twin\n>>> w = twin.WindTurbine(seed=1)\n>>> w.advance(600.0)\n>>> sorted(w.sense()), w.schema.command_names\n(['derate', 'power', 'wind_speed'], ['set_derate'])"
);
