//! Media uploads: the type comes from the bytes (never from the client), images are decoded
//! within limits, a thumbnail is made, and both files land under the data directory with
//! unguessable names.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader, Limits};

use super::{DomainError, Node};
use crate::store::media::MediaRow;
use crate::store::{now_millis, Store};

/// Longest side of a preview image.
/// Pixel count above which an image is refused (Mastodon's `image_matrix_limit`).
pub const MAX_PIXELS: u64 = 33_177_600;
pub const SUPPORTED_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

pub fn media_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

struct Processed {
    content_type: &'static str,
    extension: &'static str,
    width: u32,
    height: u32,
    thumbnail: Vec<u8>,
    thumb_extension: &'static str,
}

fn process(bytes: &[u8]) -> Result<Processed, DomainError> {
    let invalid = |m: String| DomainError::Invalid(m);
    let format = image::guess_format(bytes)
        .map_err(|_| invalid("File type of file is not supported".into()))?;
    let (content_type, extension) = match format {
        ImageFormat::Png => ("image/png", "png"),
        ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        ImageFormat::Gif => ("image/gif", "gif"),
        ImageFormat::WebP => ("image/webp", "webp"),
        other => {
            return Err(invalid(format!(
                "File type {} is not supported",
                other.to_mime_type()
            )))
        }
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| invalid(format!("Image could not be read: {e}")))?;
    if width as u64 * height as u64 > MAX_PIXELS {
        return Err(invalid(format!(
            "Image is too large: {width}x{height} exceeds {MAX_PIXELS} pixels"
        )));
    }
    let image = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| invalid(format!("Image could not be decoded: {e}")))?;
    let (tw, th) = crate::convert::thumbnail_size(width, height);
    let small = image.thumbnail(tw, th);
    let mut thumbnail = Vec::new();
    let (thumb_format, thumb_extension) = if format == ImageFormat::Jpeg {
        (ImageFormat::Jpeg, "jpg")
    } else {
        (ImageFormat::Png, "png")
    };
    let small = if thumb_format == ImageFormat::Jpeg {
        image::DynamicImage::ImageRgb8(small.to_rgb8())
    } else {
        small
    };
    small
        .write_to(&mut Cursor::new(&mut thumbnail), thumb_format)
        .map_err(|e| DomainError::Internal(format!("encoding thumbnail: {e}")))?;
    Ok(Processed {
        content_type,
        extension,
        width,
        height,
        thumbnail,
        thumb_extension,
    })
}

/// Stores an upload for `account`; the row is written only after both files are on disk, and
/// the files are removed again if the row cannot be written.
pub async fn upload(
    store: &Store,
    data_dir: &Path,
    account: i64,
    bytes: Vec<u8>,
    description: Option<String>,
    focus: Option<(f64, f64)>,
) -> Result<MediaRow, DomainError> {
    let size = bytes.len() as i64;
    let (processed, bytes) =
        tokio::task::spawn_blocking(move || process(&bytes).map(|p| (p, bytes)))
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))??;
    let dir = media_dir(data_dir);
    let token = super::oauth::random_secret();
    let file_name = format!("{token}.{}", processed.extension);
    let thumb_name = format!("{token}_small.{}", processed.thumb_extension);
    let io = |e: std::io::Error| {
        DomainError::Internal(format!("writing media to {}: {e}", dir.display()))
    };
    tokio::fs::create_dir_all(&dir).await.map_err(io)?;
    tokio::fs::write(dir.join(&file_name), &bytes)
        .await
        .map_err(io)?;
    if let Err(e) = tokio::fs::write(dir.join(&thumb_name), &processed.thumbnail).await {
        let _ = tokio::fs::remove_file(dir.join(&file_name)).await;
        return Err(io(e));
    }
    let (fx, fy) = focus.unwrap_or((0.0, 0.0));
    let row = MediaRow {
        id: crate::ids::next_id(),
        account_id: account,
        status_id: None,
        file_name: file_name.clone(),
        thumb_name: thumb_name.clone(),
        content_type: processed.content_type.to_string(),
        size,
        width: processed.width as i64,
        height: processed.height as i64,
        description: description.unwrap_or_default(),
        focus_x: fx,
        focus_y: fy,
        created_at: now_millis(),
        remote_url: None,
    };
    if let Err(e) = store.insert_media(&row).await {
        let _ = tokio::fs::remove_file(dir.join(&file_name)).await;
        let _ = tokio::fs::remove_file(dir.join(&thumb_name)).await;
        return Err(e.into());
    }
    Ok(row)
}

/// Longest media description, in characters.
pub const MAX_DESCRIPTION: usize = 1500;

fn check_description(description: Option<&str>) -> Result<(), DomainError> {
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(DomainError::Invalid("Description is too long".into()));
    }
    Ok(())
}

/// One of `account`'s uploads, or NotFound (also for someone else's).
pub async fn own(node: &Node, account: i64, id: i64) -> Result<MediaRow, DomainError> {
    node.store
        .media_by_ids(&[id])
        .await?
        .pop()
        .filter(|m| m.account_id == account)
        .ok_or(DomainError::NotFound("media"))
}

/// Changes the description and focus (`"x,y"`) of one of `account`'s uploads; the row as it
/// now is.
pub async fn update(
    node: &Node,
    account: i64,
    id: i64,
    description: Option<&str>,
    focus: Option<&str>,
) -> Result<MediaRow, DomainError> {
    let row = own(node, account, id).await?;
    check_description(description)?;
    let focus = focus.map(parse_focus).transpose()?;
    node.store.update_media(row.id, description, focus).await?;
    node.store
        .media_by_ids(&[row.id])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("media"))
}

/// A stored file (an upload or its thumbnail) and the type it is served with.
pub struct StoredFile {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// The file behind a media URL. Names are random 256-bit tokens: apps load images without
/// sending their token, so the name is the capability. NotFound for names that are not ours.
pub async fn file(node: &Node, name: &str) -> Result<StoredFile, DomainError> {
    let not_found = || DomainError::NotFound("media file");
    let valid = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !name.starts_with('.');
    if !valid {
        return Err(not_found());
    }
    let row = node
        .store
        .media_by_file(name)
        .await?
        .ok_or_else(not_found)?;
    let path = media_dir(&node.config.data_dir).join(name);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::error!(path = %path.display(), error = %e, "media file missing");
        not_found()
    })?;
    let content_type = if name == row.file_name {
        row.content_type
    } else if name.ends_with(".jpg") {
        "image/jpeg".into()
    } else {
        "image/png".into()
    };
    Ok(StoredFile {
        bytes,
        content_type,
    })
}

/// Parses Mastodon's focus parameter `"x,y"` (each in -1..1).
pub fn parse_focus(raw: &str) -> Result<(f64, f64), DomainError> {
    let bad = || {
        DomainError::Invalid(format!(
            "focus {raw:?} must be \"x,y\" with values in -1..1"
        ))
    };
    let (x, y) = raw.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
        return Err(bad());
    }
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 100, 50]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn sniffs_and_thumbnails() {
        let p = process(&png(800, 200)).unwrap();
        assert_eq!((p.content_type, p.width, p.height), ("image/png", 800, 200));
        let thumb = image::load_from_memory(&p.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (400, 100));
        assert!(process(b"GIF89a but not really").is_err());
        assert!(process(b"%PDF-1.4 hello").is_err());
        assert!(process(b"").is_err());
    }

    #[test]
    fn thumbnail_sizes_keep_aspect() {
        assert_eq!(crate::convert::thumbnail_size(100, 50), (100, 50));
        assert_eq!(crate::convert::thumbnail_size(800, 400), (400, 200));
        assert_eq!(crate::convert::thumbnail_size(300, 1200), (100, 400));
    }

    #[test]
    fn focus() {
        assert_eq!(parse_focus("0.5,-0.25").unwrap(), (0.5, -0.25));
        assert!(parse_focus("2,0").is_err());
        assert!(parse_focus("x").is_err());
    }
}
