//! Screen captures of a region of the window, for exports that save exactly what is on screen
//! (plots and plane panels). A leaf: both file tasks and the plane's exports use it.

use std::time::Duration;

use crate::export::crop_rgba;

/// How long an export waits for the screen capture before rendering the PNG itself.
const SCREENSHOT_TIMEOUT: Duration = Duration::from_secs(3);

/// Asks the renderer for a screenshot and crops it to `rect` (points); `None` when no frame
/// arrives in time (e.g. headless tests).
pub fn capture_region(ctx: &egui::Context, rect: [f32; 4]) -> Option<(u32, u32, Vec<u8>)> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    ctx.request_screenshot(move |image| {
        let _ = tx.send(image);
    });
    ctx.request_repaint();
    let image = rx.recv_timeout(SCREENSHOT_TIMEOUT).ok()?;
    let ppp = ctx.pixels_per_point();
    let [x, y, w, h] = rect.map(|v| (v * ppp).round().max(0.0) as u32);
    let [width, height] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let cropped = crop_rgba(width as u32, height as u32, &rgba, x, y, w, h);
    let (cw, ch) = (
        w.min((width as u32).saturating_sub(x)),
        h.min((height as u32).saturating_sub(y)),
    );
    (cw > 0 && ch > 0).then_some((cw, ch, cropped))
}
