//! Turning an uploaded file into what is stored: recognised by its content, measured
//! from its header before anything is decoded, oriented, stripped of metadata by
//! re-encoding, and resized into two renditions.

use crate::error::ApiError;
use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Width × height above which a file is refused before decoding.
    pub max_pixels: u64,
    /// The stored image's longest side.
    pub max_side: u32,
    /// The thumbnail's longest side.
    pub thumbnail_side: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProcessError {
    #[error("Only JPEG, PNG and WebP images are accepted.")]
    Unsupported,
    #[error("The image is {width} × {height} pixels; at most {max} pixels are accepted.")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    /// The decoder's own words stay in the logs: they describe its internals.
    #[error("The image could not be decoded: the file is damaged or incomplete.")]
    Corrupt(String),
    #[error("The image needs more memory to decode than this server allows.")]
    TooLarge(String),
}

/// One stored rendition.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
    pub extension: &'static str,
}

#[derive(Debug, Clone)]
pub struct Processed {
    pub image: Rendition,
    pub thumbnail: Rendition,
}

fn corrupt(error: image::ImageError) -> ProcessError {
    match error {
        image::ImageError::Unsupported(_) => ProcessError::Unsupported,
        image::ImageError::Limits(limit) => ProcessError::TooLarge(limit.to_string()),
        other => ProcessError::Corrupt(other.to_string()),
    }
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, ProcessError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ProcessError::Corrupt(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => Ok(reader),
        _ => Err(ProcessError::Unsupported),
    }
}

/// The format and dimensions, from the header alone.
pub fn inspect(bytes: &[u8]) -> Result<(u32, u32), ProcessError> {
    reader(bytes)?.into_dimensions().map_err(corrupt)
}

/// Bytes of memory that processing an image of these dimensions may take at its peak:
/// the decoded pixels (8 bits a channel, at most four channels) and the renditions made
/// from them. What the memory budget is charged before decoding.
pub fn memory_needed(width: u32, height: u32, limits: Limits) -> u64 {
    let pixels = u64::from(width) * u64::from(height);
    let side = |s: u32| u64::from(s) * u64::from(s);
    // The decoded image with its resized copy; then that copy turned upright, the
    // thumbnail and the encoders' output.
    pixels * 4 + side(limits.max_side) * 4 * 2 + side(limits.thumbnail_side) * 4 * 2
}

/// Decodes to 8 bits a channel whatever the file holds: a 16-bit PNG would otherwise
/// take twice the memory for no visible gain. Returns the EXIF orientation too.
fn decode(bytes: &[u8], width: u32, height: u32) -> Result<(DynamicImage, Orientation), ProcessError> {
    if reader(bytes)?.format() == Some(ImageFormat::Png) {
        return decode_png(bytes);
    }
    let mut decoder = reader(bytes)?.into_decoder().map_err(corrupt)?;
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(width);
    decode_limits.max_image_height = Some(height);
    // JPEG and WebP decode to 8 bits: at most four bytes a pixel, with room for the
    // decoder's own buffers.
    decode_limits.max_alloc = Some((u64::from(width) * u64::from(height)).saturating_mul(5) + (16 << 20));
    decoder.set_limits(decode_limits).map_err(corrupt)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let decoded = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    Ok((decoded, orientation))
}

fn decode_png(bytes: &[u8]) -> Result<(DynamicImage, Orientation), ProcessError> {
    let damaged = |e: png::DecodingError| match e {
        png::DecodingError::LimitsExceeded => ProcessError::TooLarge("the PNG decoder's limit".into()),
        other => ProcessError::Corrupt(other.to_string()),
    };
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: PNG_DECODER_LIMIT,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(damaged)?;
    let orientation = reader
        .info()
        .exif_metadata
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| ProcessError::TooLarge("the image's size".into()))?;
    let mut pixels = vec![0; size];
    let frame = reader.next_frame(&mut pixels).map_err(damaged)?;
    pixels.truncate(frame.buffer_size());
    let (w, h) = (frame.width, frame.height);
    let shape = || ProcessError::Corrupt("the decoded pixels do not fill the image".into());
    let image = match frame.color_type {
        png::ColorType::Grayscale => image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        png::ColorType::GrayscaleAlpha => image::GrayAlphaImage::from_raw(w, h, pixels).map(DynamicImage::ImageLumaA8),
        png::ColorType::Rgb => image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        png::ColorType::Rgba => image::RgbaImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8),
        png::ColorType::Indexed => None,
    }
    .ok_or_else(shape)?;
    Ok((image, orientation))
}

/// What the PNG decoder may allocate besides the output (its inflate and row buffers).
const PNG_DECODER_LIMIT: usize = 64 << 20;

/// Validates, orients, strips and resizes an uploaded image. CPU-bound: run it off the
/// async workers.
pub fn process(bytes: &[u8], limits: Limits) -> Result<Processed, ProcessError> {
    let (width, height) = inspect(bytes)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ProcessError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    let (decoded, orientation) = decode(bytes, width, height)?;
    // Shrink first (an area-averaging downscale needs no large working buffer), then
    // turn upright: the bounding box is square, so the order does not change the size.
    // The full-size pixels are freed as soon as the smaller copy exists.
    let mut image = if decoded.width().max(decoded.height()) > limits.max_side {
        let smaller = decoded.thumbnail(limits.max_side, limits.max_side);
        drop(decoded);
        smaller
    } else {
        decoded
    };
    image.apply_orientation(orientation);
    let thumbnail = if image.width().max(image.height()) > limits.thumbnail_side {
        image.thumbnail(limits.thumbnail_side, limits.thumbnail_side)
    } else {
        image.clone()
    };
    Ok(Processed {
        image: encode(&image)?,
        thumbnail: encode(&thumbnail)?,
    })
}

/// Encodes pixels only: EXIF (GPS included), ICC and every other chunk are left behind.
/// Images with transparency stay PNG; everything else becomes JPEG.
fn encode(image: &DynamicImage) -> Result<Rendition, ProcessError> {
    let mut bytes = Vec::new();
    let (content_type, extension) = if image.color().has_alpha() {
        image
            .to_rgba8()
            .write_with_encoder(PngEncoder::new(&mut bytes))
            .map_err(corrupt)?;
        ("image/png", "png")
    } else {
        image
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 85))
            .map_err(corrupt)?;
        ("image/jpeg", "jpg")
    };
    Ok(Rendition {
        bytes,
        width: image.width(),
        height: image.height(),
        content_type,
        extension,
    })
}

impl From<ProcessError> for ApiError {
    fn from(error: ProcessError) -> Self {
        match error {
            ProcessError::Unsupported | ProcessError::Corrupt(_) => Self::UnsupportedMediaType(error.to_string()),
            ProcessError::TooManyPixels { .. } | ProcessError::TooLarge(_) => Self::PayloadTooLarge(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    const LIMITS: Limits = Limits {
        max_pixels: 50_000_000,
        max_side: 64,
        thumbnail_side: 16,
    };

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn resizes_into_two_renditions_keeping_the_aspect() {
        let out = process(&png(200, 100), LIMITS).unwrap();
        assert_eq!((out.image.width, out.image.height), (64, 32));
        assert_eq!((out.thumbnail.width, out.thumbnail.height), (16, 8));
        assert_eq!(out.image.content_type, "image/jpeg");
        assert_eq!(inspect(&out.image.bytes).unwrap(), (64, 32));
        let small = process(&png(10, 5), LIMITS).unwrap();
        assert_eq!(
            (small.image.width, small.image.height),
            (10, 5),
            "small images are not enlarged"
        );
    }

    #[test]
    fn transparency_stays_png() {
        let img = RgbaImage::from_pixel(8, 8, Rgba([0, 0, 0, 0]));
        let mut bytes = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        assert_eq!(process(&bytes, LIMITS).unwrap().image.content_type, "image/png");
    }

    #[test]
    fn refuses_what_is_not_an_accepted_image() {
        assert_eq!(
            process(b"just some text, named photo.jpg", LIMITS).unwrap_err(),
            ProcessError::Unsupported
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(process(gif, LIMITS).unwrap_err(), ProcessError::Unsupported);
        let mut truncated = png(50, 50);
        truncated.truncate(60);
        assert!(matches!(process(&truncated, LIMITS), Err(ProcessError::Corrupt(_))));
    }

    #[test]
    fn counts_pixels_before_decoding() {
        let tight = Limits {
            max_pixels: 100,
            ..LIMITS
        };
        assert_eq!(
            process(&png(20, 10), tight).unwrap_err(),
            ProcessError::TooManyPixels {
                width: 20,
                height: 10,
                max: 100
            }
        );
    }
}
