//! The weekly review's picture: time to first reply per lead against the target, and
//! drift open per day, drawn with plotters into a PNG (no fonts: the words are in the
//! HTML around it); the review email carries it inline by `cid:` (`Draft::inline`).

use super::digest::Review;
use anyhow::Context;
use plotters::prelude::*;

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 220;

const BLUE: RGBColor = RGBColor(37, 99, 235);
const ORANGE: RGBColor = RGBColor(234, 88, 12);
const GREY: RGBColor = RGBColor(203, 210, 217);

/// The chart as PNG bytes.
pub fn review_chart(r: &Review) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("chart.png");
    {
        let root = BitMapBackend::new(&path, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (left, right) = root.split_horizontally(WIDTH / 2);
        let target = r.figures.first_reply_target.as_secs_f64() / 3600.0;
        draw_replies(
            &left,
            &r.first_replies.iter().map(|f| f.hours).collect::<Vec<_>>(),
            target,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        draw_drift(
            &right,
            &r.drift_per_day.iter().map(|d| d.open).collect::<Vec<_>>(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    std::fs::read(&path).context("cannot read the chart back")
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

/// Bars: business hours to first reply per lead; a red line at the target.
fn draw_replies(area: &Area<'_>, hours: &[f64], target: f64) -> DrawResult {
    let area = area.margin(14, 14, 14, 8);
    let top = hours.iter().copied().fold(target * 1.5, f64::max).max(0.5);
    let n = hours.len().max(1);
    let mut chart = ChartBuilder::on(&area).build_cartesian_2d(0f64..n as f64, 0f64..top)?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (n as f64, 0.0)],
        GREY.stroke_width(1),
    )))?;
    chart.draw_series(hours.iter().enumerate().map(|(i, h)| {
        let color = if *h <= target { BLUE } else { ORANGE };
        let x = i as f64;
        Rectangle::new([(x + 0.15, 0.0), (x + 0.85, *h)], color.filled())
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, target), (n as f64, target)],
        RED.stroke_width(2),
    )))?;
    Ok(())
}

/// A line with points: drift episodes open at the end of each day.
fn draw_drift(area: &Area<'_>, open: &[u32]) -> DrawResult {
    let area = area.margin(14, 14, 8, 14);
    let top = open.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.2;
    let n = open.len().max(2) - 1;
    let mut chart = ChartBuilder::on(&area).build_cartesian_2d(0f64..n as f64, 0f64..top)?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (n as f64, 0.0)],
        GREY.stroke_width(1),
    )))?;
    let points: Vec<(f64, f64)> = open
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64, f64::from(*v)))
        .collect();
    chart.draw_series(LineSeries::new(points.clone(), ORANGE.stroke_width(3)))?;
    chart.draw_series(
        points
            .into_iter()
            .map(|p| Circle::new(p, 4, ORANGE.filled())),
    )?;
    Ok(())
}
