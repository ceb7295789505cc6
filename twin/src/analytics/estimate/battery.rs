//! NASA's equivalent-circuit Li-ion battery model (ProgPy's `BatteryCircuit`).

use serde::{Deserialize, Serialize};

use super::{persist, Dims, StateSpaceModel};
use crate::error::{Error, Result};

/// Parameters of the [`BatteryCircuit`] model, with NASA's published values as defaults
/// (an 18650-type cell; Daigle and Sankararaman, PHM 2013, as distributed with ProgPy).
///
/// ```
/// use twin::analytics::estimate::BatteryCircuitParams;
/// let p = BatteryCircuitParams::default();
/// assert_eq!(p.v_eod, 3.0);
/// assert!(p.validate().is_ok());
/// assert!(BatteryCircuitParams { cs: 0.0, ..p }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatteryCircuitParams {
    /// Nominal battery voltage, V.
    pub v0: f64,
    /// Parasitic (self-discharge) resistance, Ω.
    pub rp: f64,
    /// Charge of the full battery, C.
    pub q_max: f64,
    /// Maximum capacity, C.
    pub c_max: f64,
    /// End-of-discharge voltage threshold, V.
    pub v_eod: f64,
    /// Voltage span above `v_eod` over which the event state falls to zero, V.
    pub v_dropoff: f64,
    /// Battery capacitance parameter, F.
    pub cb0: f64,
    /// Cubic coefficient of the capacitance in the state of charge.
    pub cbp0: f64,
    /// Quadratic coefficient of the capacitance in the state of charge.
    pub cbp1: f64,
    /// Linear coefficient of the capacitance in the state of charge.
    pub cbp2: f64,
    /// Constant term of the capacitance in the state of charge.
    pub cbp3: f64,
    /// Surface R-C pair resistance, Ω.
    pub rs: f64,
    /// Surface R-C pair capacitance, F.
    pub cs: f64,
    /// Constant term of the concentration-polarisation resistance, Ω.
    pub rcp0: f64,
    /// Scale of its exponential rise at low charge, Ω.
    pub rcp1: f64,
    /// Rate of its exponential rise at low charge.
    pub rcp2: f64,
    /// Concentration-polarisation capacitance, F.
    pub ccp: f64,
    /// Ambient temperature, K.
    pub ta: f64,
    /// Thermal capacity, J/K.
    pub jt: f64,
    /// Heat transfer coefficient to ambient.
    pub ha: f64,
    /// Heat transfer coefficient of the polarisation pair.
    pub hcp: f64,
    /// Heat transfer coefficient of the surface pair.
    pub hcs: f64,
}

impl Default for BatteryCircuitParams {
    fn default() -> Self {
        BatteryCircuitParams {
            v0: 4.183,
            rp: 1e4,
            q_max: 7856.3254,
            c_max: 7777.0,
            v_eod: 3.0,
            v_dropoff: 0.1,
            cb0: 1878.155726,
            cbp0: -230.0,
            cbp1: 1.2,
            cbp2: 2079.9,
            cbp3: 27.055726,
            rs: 0.0538926,
            cs: 234.387,
            rcp0: 0.0697776,
            rcp1: 1.50528e-17,
            rcp2: 37.223,
            ccp: 14.8223,
            ta: 292.1,
            jt: 800.0,
            ha: 0.5,
            hcp: 19.0,
            hcs: 1.0,
        }
    }
}

impl BatteryCircuitParams {
    /// Check that every parameter is finite, and that the ones divided by are positive.
    pub fn validate(&self) -> Result<()> {
        let all = [
            ("v0", self.v0),
            ("rp", self.rp),
            ("q_max", self.q_max),
            ("c_max", self.c_max),
            ("v_eod", self.v_eod),
            ("v_dropoff", self.v_dropoff),
            ("cb0", self.cb0),
            ("cbp0", self.cbp0),
            ("cbp1", self.cbp1),
            ("cbp2", self.cbp2),
            ("cbp3", self.cbp3),
            ("rs", self.rs),
            ("cs", self.cs),
            ("rcp0", self.rcp0),
            ("rcp1", self.rcp1),
            ("rcp2", self.rcp2),
            ("ccp", self.ccp),
            ("ta", self.ta),
            ("jt", self.jt),
            ("ha", self.ha),
            ("hcp", self.hcp),
            ("hcs", self.hcs),
        ];
        if let Some((name, _)) = all.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite(format!("battery parameter {name}")));
        }
        let positive = [
            ("rp", self.rp),
            ("q_max", self.q_max),
            ("c_max", self.c_max),
            ("v_dropoff", self.v_dropoff),
            ("rs", self.rs),
            ("cs", self.cs),
            ("rcp0", self.rcp0),
            ("ccp", self.ccp),
            ("jt", self.jt),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0.0) {
            return Err(Error::InvalidInput(format!(
                "battery parameter {name} must be positive, got {v}"
            )));
        }
        Ok(())
    }
}

/// Intermediate quantities of the circuit at one state.
struct Circuit {
    vcs: f64,
    vcp: f64,
    rcp: f64,
    /// d Rcp / d qb.
    drcp: f64,
    vb: f64,
    /// d Vb / d qb.
    dvb: f64,
}

/// The equivalent-circuit Li-ion battery of NASA's prognostics packages (ProgPy's
/// `BatteryCircuit`; M. Daigle and S. Sankararaman, "Advanced Methods for Determining
/// Prediction Uncertainty in Model-Based Prognostics with Application to Planetary
/// Rovers", PHM 2013), as a [`StateSpaceModel`] with Jacobians.
///
/// State `x = [tb, qb, qcp, qcs]`: battery temperature (K) and the charges (C) of the bulk
/// capacitor `Cb` and of the concentration-polarisation and surface R-C pairs. Input
/// `u = [i]`: the current drawn (A). Output `z = [t, v]`: temperature (K) and terminal
/// voltage (V). With `SOC = (CMax − qMax + qb) / CMax`:
///
/// ```text
/// Cb  = Cbp0 SOC³ + Cbp1 SOC² + Cbp2 SOC + Cbp3      Rcp = Rcp0 + Rcp1 exp(Rcp2 (1 − SOC))
/// Vb  = qb / Cb    Vcp = qcp / Ccp    Vcs = qcs / Cs    v = Vb − Vcp − Vcs
/// ib  = i + v / Rp
/// dtb/dt  = ha (Ta − tb) / Jt + hcs Vcs² / (Jt Rs) + hcp Vcp² / (Jt Rcp)
/// dqb/dt  = −ib      dqcp/dt = ib − Vcp / Rcp      dqcs/dt = ib − Vcs / Rs
/// ```
///
/// A step is one explicit Euler step of these equations, as ProgPy's default integrator
/// takes (keep `dt` near 1 s or below: the polarisation pair's time constant `Rcp Ccp` is
/// about 1 s). After each step the temperature and charge are kept non-negative. The event
/// is end of discharge: the margin is `v − VEOD`.
///
/// Noise follows ProgPy's convention: each step adds `dt · σᵢ · N(0, 1)` to state `i`
/// (so `Q(dt) = diag((σᵢ dt)²)`), and each measurement `σⱼ · N(0, 1)` to output `j`. Both
/// are zero by default, which the predictor accepts but the filters do not: set a positive
/// measurement noise before filtering.
///
/// ```
/// use twin::analytics::estimate::{BatteryCircuit, StateSpaceModel};
/// let b = BatteryCircuit::default();
/// let mut x = b.initial_state();
/// let mut z = [0.0; 2];
/// b.output(&x, &[0.0], &mut z);
/// assert!((z[1] - 4.183).abs() < 1e-6); // a full cell at rest shows about V0
/// // end of discharge at a constant 2 A, in steps of 1 s
/// let mut next = [0.0; 4];
/// let mut t = 0;
/// while b.event_margin(&x, &[2.0]) > 0.0 {
///     b.step(&x, &[2.0], 1.0, &mut next);
///     x.copy_from_slice(&next);
///     t += 1;
/// }
/// assert_eq!(t, 3803); // ProgPy 1.9 simulate_to_threshold gives 3803 s for these settings
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BatteryCircuitData")]
pub struct BatteryCircuit {
    params: BatteryCircuitParams,
    process_noise: [f64; 4],
    measurement_noise: [f64; 2],
}

/// A saved battery, checked before it becomes one.
#[derive(Deserialize)]
struct BatteryCircuitData {
    params: BatteryCircuitParams,
    process_noise: [f64; 4],
    measurement_noise: [f64; 2],
}

impl TryFrom<BatteryCircuitData> for BatteryCircuit {
    type Error = Error;

    fn try_from(b: BatteryCircuitData) -> Result<Self> {
        BatteryCircuit::new(b.params)?
            .with_process_noise(b.process_noise)?
            .with_measurement_noise(b.measurement_noise)
    }
}

impl Default for BatteryCircuit {
    fn default() -> Self {
        BatteryCircuit {
            params: BatteryCircuitParams::default(),
            process_noise: [0.0; 4],
            measurement_noise: [0.0; 2],
        }
    }
}

impl BatteryCircuit {
    /// The format name of saved battery models.
    pub const FORMAT: &'static str = "twin.battery_circuit";
    /// The format version this build writes and reads.
    pub const FORMAT_VERSION: u32 = 1;

    /// A battery with the given parameters and no noise.
    ///
    /// ```
    /// use twin::analytics::estimate::{BatteryCircuit, BatteryCircuitParams};
    /// let cold = BatteryCircuit::new(BatteryCircuitParams { ta: 273.15, ..Default::default() })?;
    /// assert_eq!(cold.params().ta, 273.15);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn new(params: BatteryCircuitParams) -> Result<Self> {
        params.validate()?;
        Ok(BatteryCircuit {
            params,
            ..BatteryCircuit::default()
        })
    }

    /// The same battery with process noise standard deviations `σ` for
    /// `[tb, qb, qcp, qcs]` (per unit of time, ProgPy's convention: see the type's docs).
    ///
    /// ```
    /// use twin::analytics::estimate::{BatteryCircuit, StateSpaceModel};
    /// let b = BatteryCircuit::default().with_process_noise([0.25; 4])?;
    /// let mut q = [0.0; 16];
    /// b.process_noise(2.0, &mut q);
    /// assert_eq!(q[0], 0.25); // (0.25 · 2)²
    /// assert!(BatteryCircuit::default().with_process_noise([-1.0; 4]).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn with_process_noise(mut self, std_dev: [f64; 4]) -> Result<Self> {
        check_std("process noise", &std_dev)?;
        self.process_noise = std_dev;
        Ok(self)
    }

    /// The same battery with measurement noise standard deviations for `[t, v]`.
    ///
    /// ```
    /// use twin::analytics::estimate::{BatteryCircuit, StateSpaceModel};
    /// let b = BatteryCircuit::default().with_measurement_noise([2.0, 0.02])?;
    /// let mut r = [0.0; 4];
    /// b.measurement_noise(&mut r);
    /// assert_eq!(r, [4.0, 0.0, 0.0, 0.0004]);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn with_measurement_noise(mut self, std_dev: [f64; 2]) -> Result<Self> {
        check_std("measurement noise", &std_dev)?;
        self.measurement_noise = std_dev;
        Ok(self)
    }

    /// The parameters.
    pub fn params(&self) -> &BatteryCircuitParams {
        &self.params
    }

    /// A full battery at ambient temperature, at rest: `[Ta, qMax, 0, 0]`.
    pub fn initial_state(&self) -> Vec<f64> {
        vec![self.params.ta, self.params.q_max, 0.0, 0.0]
    }

    /// The state of charge `(CMax − qMax + qb) / CMax` of a state.
    ///
    /// ```
    /// use twin::analytics::estimate::BatteryCircuit;
    /// let b = BatteryCircuit::default();
    /// assert!((b.state_of_charge(&b.initial_state()) - 1.0).abs() < 1e-12);
    /// ```
    pub fn state_of_charge(&self, x: &[f64]) -> f64 {
        let p = &self.params;
        (p.c_max - p.q_max + x[1]) / p.c_max
    }

    /// ProgPy's event state for end of discharge, from 1 (full) to 0 (discharged): the
    /// smaller of the state of charge and `(v − VEOD) / VDropoff`.
    pub fn event_state(&self, x: &[f64]) -> f64 {
        let c = self.circuit(x);
        let v = c.vb - c.vcp - c.vcs;
        self.state_of_charge(x)
            .min((v - self.params.v_eod) / self.params.v_dropoff)
    }

    /// Save as a versioned JSON document.
    ///
    /// ```
    /// use twin::analytics::estimate::BatteryCircuit;
    /// let b = BatteryCircuit::default().with_measurement_noise([2.0, 0.02])?;
    /// assert_eq!(BatteryCircuit::from_json(&b.to_json()?)?, b);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        persist::to_json(Self::FORMAT, Self::FORMAT_VERSION, self)
    }

    /// Load a model saved by [`to_json`](Self::to_json), checking its parameters.
    pub fn from_json(json: &str) -> Result<Self> {
        persist::from_json(Self::FORMAT, Self::FORMAT_VERSION, json)
    }

    fn circuit(&self, x: &[f64]) -> Circuit {
        let p = &self.params;
        let soc = (p.c_max - p.q_max + x[1]) / p.c_max;
        let cb = ((p.cbp0 * soc + p.cbp1) * soc + p.cbp2) * soc + p.cbp3;
        let dcb = ((3.0 * p.cbp0 * soc + 2.0 * p.cbp1) * soc + p.cbp2) / p.c_max;
        let e = p.rcp1 * (p.rcp2 * (1.0 - soc)).exp();
        let vb = x[1] / cb;
        Circuit {
            vcs: x[3] / p.cs,
            vcp: x[2] / p.ccp,
            rcp: p.rcp0 + e,
            drcp: -p.rcp2 * e / p.c_max,
            vb,
            dvb: 1.0 / cb - vb * dcb / cb,
        }
    }
}

fn check_std(name: &str, s: &[f64]) -> Result<()> {
    if let Some(i) = s.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("{name} standard deviation {i}")));
    }
    if let Some(v) = s.iter().find(|v| **v < 0.0) {
        return Err(Error::InvalidInput(format!(
            "{name} standard deviations must be non-negative, got {v}"
        )));
    }
    Ok(())
}

impl StateSpaceModel for BatteryCircuit {
    fn dims(&self) -> Dims {
        Dims {
            states: 4,
            inputs: 1,
            outputs: 2,
        }
    }

    fn step(&self, x: &[f64], u: &[f64], dt: f64, next: &mut [f64]) {
        let p = &self.params;
        let c = self.circuit(x);
        let ib = u[0] + (c.vb - c.vcp - c.vcs) / p.rp;
        let dtb = p.ha * (p.ta - x[0]) / p.jt
            + p.hcs * c.vcs * c.vcs / (p.jt * p.rs)
            + p.hcp * c.vcp * c.vcp / (p.jt * c.rcp);
        next[0] = x[0] + dtb * dt;
        next[1] = x[1] - ib * dt;
        next[2] = x[2] + (ib - c.vcp / c.rcp) * dt;
        next[3] = x[3] + (ib - c.vcs / p.rs) * dt;
    }

    fn output(&self, x: &[f64], _u: &[f64], z: &mut [f64]) {
        let c = self.circuit(x);
        z[0] = x[0];
        z[1] = c.vb - c.vcp - c.vcs;
    }

    fn process_noise(&self, dt: f64, q: &mut [f64]) {
        for i in 0..4 {
            let s = self.process_noise[i] * dt;
            q[i * 4 + i] = s * s;
        }
    }

    fn measurement_noise(&self, r: &mut [f64]) {
        r[0] = self.measurement_noise[0] * self.measurement_noise[0];
        r[3] = self.measurement_noise[1] * self.measurement_noise[1];
    }

    fn state_jacobian(&self, x: &[f64], _u: &[f64], dt: f64, f: &mut [f64]) -> bool {
        let p = &self.params;
        let c = self.circuit(x);
        let (inv_ccp, inv_cs) = (1.0 / p.ccp, 1.0 / p.cs);
        // rates' partial derivatives J; F = I + dt J
        let dib = [0.0, c.dvb / p.rp, -inv_ccp / p.rp, -inv_cs / p.rp];
        let dtb = [
            -p.ha / p.jt,
            -p.hcp * c.vcp * c.vcp / (p.jt * c.rcp * c.rcp) * c.drcp,
            2.0 * p.hcp * c.vcp * inv_ccp / (p.jt * c.rcp),
            2.0 * p.hcs * c.vcs * inv_cs / (p.jt * p.rs),
        ];
        let mut dicp = dib;
        dicp[1] += c.vcp / (c.rcp * c.rcp) * c.drcp;
        dicp[2] -= inv_ccp / c.rcp;
        let mut dics = dib;
        dics[3] -= inv_cs / p.rs;
        for j in 0..4 {
            f[j] = dt * dtb[j];
            f[4 + j] = -dt * dib[j];
            f[8 + j] = dt * dicp[j];
            f[12 + j] = dt * dics[j];
        }
        for i in 0..4 {
            f[i * 4 + i] += 1.0;
        }
        true
    }

    fn output_jacobian(&self, x: &[f64], _u: &[f64], h: &mut [f64]) -> bool {
        let c = self.circuit(x);
        h[0] = 1.0;
        h[5] = c.dvb;
        h[6] = -1.0 / self.params.ccp;
        h[7] = -1.0 / self.params.cs;
        true
    }

    fn event_margin(&self, x: &[f64], _u: &[f64]) -> f64 {
        let c = self.circuit(x);
        c.vb - c.vcp - c.vcs - self.params.v_eod
    }

    fn constrain(&self, x: &mut [f64]) {
        x[0] = x[0].max(0.0);
        x[1] = x[1].max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobians_match_finite_differences() {
        let b = BatteryCircuit::default();
        // a part-discharged, polarised state
        let x = [300.0, 5200.0, 8.0, 40.0];
        let u = [2.5];
        let dt = 0.7;
        let mut f = [0.0; 16];
        assert!(b.state_jacobian(&x, &u, dt, &mut f));
        let mut h = [0.0; 8];
        assert!(b.output_jacobian(&x, &u, &mut h));
        for j in 0..4 {
            let e = 1e-4 * x[j].abs().max(1.0);
            let (mut xp, mut xm) = (x, x);
            xp[j] += e;
            xm[j] -= e;
            let (mut np, mut nm) = ([0.0; 4], [0.0; 4]);
            b.step(&xp, &u, dt, &mut np);
            b.step(&xm, &u, dt, &mut nm);
            for i in 0..4 {
                let fd = (np[i] - nm[i]) / (2.0 * e);
                let tol = 1e-7 * (1.0 + fd.abs());
                assert!(
                    (f[i * 4 + j] - fd).abs() < tol,
                    "F[{i}][{j}] {} vs {fd}",
                    f[i * 4 + j]
                );
            }
            let (mut zp, mut zm) = ([0.0; 2], [0.0; 2]);
            b.output(&xp, &u, &mut zp);
            b.output(&xm, &u, &mut zm);
            for i in 0..2 {
                let fd = (zp[i] - zm[i]) / (2.0 * e);
                assert!((h[i * 4 + j] - fd).abs() < 1e-9 * (1.0 + fd.abs()));
            }
        }
    }

    #[test]
    fn voltage_falls_with_charge() {
        let b = BatteryCircuit::default();
        let mut z_full = [0.0; 2];
        let mut z_low = [0.0; 2];
        b.output(&[292.1, 7856.3254, 0.0, 0.0], &[0.0], &mut z_full);
        b.output(&[292.1, 2000.0, 0.0, 0.0], &[0.0], &mut z_low);
        assert!(z_full[1] > z_low[1]);
        assert!(b.event_state(&b.initial_state()) > 0.99);
    }
}
