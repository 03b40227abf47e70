"""Offscreen OpenGL rendering of performers on a stage: colour image, performer ids and depth per pixel.

Rendering uses moderngl on a headless EGL context, which Mesa's software rasteriser (llvmpipe)
provides without a display or a GPU, so the same code runs on a laptop, under ``xvfb-run`` and in
CI. One pass writes the shaded image and, into a second colour attachment, which performer covers
each pixel; the depth buffer gives each pixel's camera distance. A shadow map from the key light
grounds the figures on the floor.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from ..errors import MocapError
from .body import BodyMesh
from .camera import FAR_M, NEAR_M, VirtualCamera
from .scene import Stage, stage_quads

logger = logging.getLogger(__name__)

SHADOW_MAP_SIZE = 2048
#: Half-width of the region around the performers that the key light's shadow map covers, metres.
SHADOW_EXTENT_M = 5.0
_VERTEX_FORMAT = "3f 3f 3f 2f 1f"
_ATTRIBUTES = ("in_pos", "in_normal", "in_colour", "in_uv", "in_id")
_FLOATS_PER_VERTEX = 12

_VERTEX_SHADER = """
#version 330
uniform mat4 u_view_proj;
uniform mat4 u_light_vp;
in vec3 in_pos; in vec3 in_normal; in vec3 in_colour; in vec2 in_uv; in float in_id;
out vec3 v_normal; out vec3 v_colour; out vec2 v_uv; out vec4 v_light; flat out float v_id;
void main() {
    gl_Position = u_view_proj * vec4(in_pos, 1.0);
    v_normal = in_normal; v_colour = in_colour; v_uv = in_uv; v_id = in_id;
    v_light = u_light_vp * vec4(in_pos, 1.0);
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform sampler2D u_texture;
uniform sampler2DShadow u_shadow;
uniform bool u_textured;
uniform vec3 u_key_dir; uniform vec3 u_fill_dir;
uniform float u_key; uniform float u_fill; uniform float u_ambient;
in vec3 v_normal; in vec3 v_colour; in vec2 v_uv; in vec4 v_light; flat in float v_id;
layout(location = 0) out vec4 f_colour;
layout(location = 1) out vec4 f_id;
float lit_fraction() {
    vec3 p = v_light.xyz / v_light.w * 0.5 + 0.5;
    if (p.x <= 0.0 || p.x >= 1.0 || p.y <= 0.0 || p.y >= 1.0 || p.z >= 1.0) return 1.0;
    float sum = 0.0;
    vec2 texel = 1.0 / vec2(textureSize(u_shadow, 0));
    for (int i = -1; i <= 1; i++)
        for (int j = -1; j <= 1; j++)
            sum += texture(u_shadow, vec3(p.xy + vec2(i, j) * texel, p.z - 0.002));
    return sum / 9.0;
}
void main() {
    vec3 albedo = u_textured ? texture(u_texture, v_uv).rgb : v_colour;
    albedo = pow(albedo, vec3(2.2));
    vec3 n = normalize(v_normal);
    float light = u_ambient + u_key * max(dot(n, u_key_dir), 0.0) * lit_fraction()
                + u_fill * max(dot(n, u_fill_dir), 0.0);
    f_colour = vec4(pow(albedo * light, vec3(1.0 / 2.2)), 1.0);
    f_id = vec4(v_id / 255.0, 0.0, 0.0, 1.0);
}
"""

_SHADOW_VERTEX_SHADER = """
#version 330
uniform mat4 u_light_vp;
in vec3 in_pos;
void main() { gl_Position = u_light_vp * vec4(in_pos, 1.0); }
"""
_SHADOW_FRAGMENT_SHADER = "#version 330\nvoid main() {}\n"


@dataclass(frozen=True, eq=False)
class TexturedQuad:
    """A flat textured rectangle in the world (e.g. a calibration board).

    Attributes:
        corners: (4, 3) world corners, metres, in the order of the image's top-left, top-right,
            bottom-right, bottom-left.
        image: (H, W, 3) uint8 sRGB texture stretched over the quad.
    """

    corners: np.ndarray
    image: np.ndarray


@dataclass(frozen=True, eq=False)
class RenderResult:
    """One rendered frame.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        ids: (H, W) uint8: 1 + index of the performer covering the pixel, 0 for the stage.
        depth: (H, W) float32 camera-space z of the nearest surface, metres.
    """

    image: np.ndarray
    ids: np.ndarray
    depth: np.ndarray


def _create_context():  # -> moderngl.Context
    try:
        import moderngl
    except ImportError as exc:
        raise MocapError("moderngl is not installed; run 'pip install moderngl' or scripts/setup.sh.") from exc
    errors = []
    # An EGL context in a process that also shows Qt's OpenGL widgets (GLX on X11) breaks Qt's
    # contexts with Mesa, so under a display use GLX like Qt does; headless, EGL is the only way.
    backends = (None, "egl") if os.environ.get("DISPLAY") else ("egl", None)
    for backend in backends:
        try:
            return moderngl.create_standalone_context(backend=backend) if backend else \
                moderngl.create_standalone_context()
        except Exception as exc:  # noqa: BLE001 - any backend failure means "try the next one"
            errors.append(f"{backend or 'default'}: {exc}")
    raise MocapError("No offscreen OpenGL context could be created (" + "; ".join(errors) + "). Install Mesa's "
                     "EGL and software renderer (apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri, as "
                     "scripts/setup.sh does).")


def _ortho_light(direction: np.ndarray, centre: np.ndarray, extent: float) -> np.ndarray:
    """(4, 4) world -> clip matrix of an orthographic light looking along -direction at ``centre``."""
    back = direction / np.linalg.norm(direction)
    up = np.array([0.0, 0.0, 1.0]) if abs(back[1]) > 0.99 else np.array([0.0, 1.0, 0.0])
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    view = np.eye(4)
    view[:3, :3] = np.stack([right, up, back])
    eye = centre + back * 20.0
    view[:3, 3] = -view[:3, :3] @ eye
    proj = np.diag([1.0 / extent, 1.0 / extent, -2.0 / 40.0, 1.0])
    proj[2, 3] = -1.0
    return proj @ view


def _gl(matrix: np.ndarray) -> bytes:
    """A row-major numpy matrix as the column-major float32 bytes GLSL expects."""
    return np.ascontiguousarray(matrix.T, dtype=np.float32).tobytes()


def _interleave(positions: np.ndarray, normals: np.ndarray, colours: np.ndarray, uv: np.ndarray,
                ids: np.ndarray) -> np.ndarray:
    return np.concatenate([positions, normals, colours, uv, ids[:, None]], axis=1).astype(np.float32)


class Renderer:
    """Renders stages and performers offscreen; create once, call :meth:`render` per frame.

    Example:
        >>> renderer = Renderer()
        >>> renderer.set_stage(default_stage())                                    # doctest: +SKIP
        >>> result = renderer.render(camera, [build_body(pose, Appearance())])     # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.ctx = _create_context()
        logger.info("Rendering with %s", self.ctx.info.get("GL_RENDERER", "?"))
        self.program = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self.shadow_program = self.ctx.program(vertex_shader=_SHADOW_VERTEX_SHADER,
                                               fragment_shader=_SHADOW_FRAGMENT_SHADER)
        self.shadow_map = self.ctx.depth_texture((SHADOW_MAP_SIZE, SHADOW_MAP_SIZE))
        self.shadow_map.compare_func = "<="
        self.shadow_map.repeat_x = self.shadow_map.repeat_y = False
        self.shadow_fbo = self.ctx.framebuffer(depth_attachment=self.shadow_map)
        self._fbo = None
        self._size: tuple[int, int] | None = None
        self._stage: Stage | None = None
        self._stage_draws: list = []

    def _framebuffer(self, width: int, height: int):
        if self._size != (width, height):
            if self._fbo is not None:
                self._fbo.release()
            self._fbo = self.ctx.framebuffer(
                color_attachments=[self.ctx.renderbuffer((width, height)), self.ctx.renderbuffer((width, height))],
                depth_attachment=self.ctx.depth_renderbuffer((width, height)))
            self._size = (width, height)
        return self._fbo

    def set_stage(self, stage: Stage) -> None:
        """Upload the floor and walls of ``stage`` (textures and geometry) for the following frames."""
        for _, vao, texture in self._stage_draws:
            vao.release()
            texture.release()
        self._stage_draws = []
        textures = {"floor": stage.floor_texture, "wall": stage.wall_texture}
        for name, corners, uv, normal in stage_quads(stage):
            image = textures[name]
            texture = self.ctx.texture((image.shape[1], image.shape[0]), 3, np.ascontiguousarray(image).tobytes())
            texture.build_mipmaps()
            texture.anisotropy = 2.0
            order = np.array([0, 1, 2, 0, 2, 3])
            data = _interleave(corners[order], np.tile(normal, (6, 1)), np.zeros((6, 3)), uv[order], np.zeros(6))
            vao = self.ctx.vertex_array(self.program, [(self.ctx.buffer(data.tobytes()), _VERTEX_FORMAT,
                                                        *_ATTRIBUTES)])
            self._stage_draws.append((name, vao, texture))
        self._stage = stage

    def render(self, camera: VirtualCamera, bodies: list[BodyMesh],
               quads: tuple[TexturedQuad, ...] = ()) -> RenderResult:
        """Render one frame as seen by ``camera``; ``bodies[i]`` gets id ``i + 1``, ``quads`` id 0."""
        import moderngl

        if self._stage is None:
            raise RuntimeError("Renderer.set_stage must be called before render.")
        stage = self._stage
        if len(bodies) > 254:
            raise ValueError(f"At most 254 performers per frame, got {len(bodies)}.")
        vertices, faces, offset = [], [], 0
        for index, body in enumerate(bodies):
            count = len(body.positions)
            vertices.append(_interleave(body.positions, body.normals, body.colours, np.zeros((count, 2)),
                                        np.full(count, index + 1.0)))
            faces.append(body.faces + offset)
            offset += count
        centre = (np.mean([b.positions.mean(axis=0) for b in bodies], axis=0) if bodies else np.zeros(3))
        light_vp = _ortho_light(stage.key.direction, centre, SHADOW_EXTENT_M)
        body_vao = None
        if bodies:
            vbo = self.ctx.buffer(np.concatenate(vertices).tobytes())
            ibo = self.ctx.buffer(np.concatenate(faces).astype(np.int32).tobytes())
            body_vao = self.ctx.vertex_array(self.program, [(vbo, _VERTEX_FORMAT, *_ATTRIBUTES)], ibo)
            shadow_vao = self.ctx.vertex_array(self.shadow_program, [(vbo, "3f 36x", "in_pos")], ibo)
            self.shadow_fbo.use()
            self.shadow_fbo.clear(depth=1.0)
            self.ctx.enable(moderngl.DEPTH_TEST)
            self.shadow_program["u_light_vp"].write(_gl(light_vp))
            shadow_vao.render()
            shadow_vao.release()
        else:
            self.shadow_fbo.clear(depth=1.0)
        fbo = self._framebuffer(camera.width, camera.height)
        fbo.use()
        fbo.clear(*stage.sky, 1.0, depth=1.0)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.CULL_FACE)
        view_proj = camera.gl_projection() @ camera.view_matrix()
        self.program["u_view_proj"].write(_gl(view_proj))
        self.program["u_light_vp"].write(_gl(light_vp))
        self.program["u_key_dir"].value = tuple(stage.key.direction)
        self.program["u_fill_dir"].value = tuple(stage.fill.direction / np.linalg.norm(stage.fill.direction))
        self.program["u_key"].value = stage.key.intensity
        self.program["u_fill"].value = stage.fill.intensity
        self.program["u_ambient"].value = stage.ambient
        self.program["u_texture"].value = 0
        self.program["u_shadow"].value = 1
        self.shadow_map.use(location=1)
        self.program["u_textured"].value = True
        for _, vao, texture in self._stage_draws:
            texture.use(location=0)
            vao.render()
        for quad in quads:
            self._draw_quad(quad)
        if body_vao is not None:
            self.program["u_textured"].value = False
            body_vao.render()
            body_vao.release()
        return self._read(fbo, camera)

    def _draw_quad(self, quad: TexturedQuad) -> None:
        image = np.ascontiguousarray(quad.image[::-1])  # GL textures start at the bottom row
        texture = self.ctx.texture((image.shape[1], image.shape[0]), 3, image.tobytes())
        texture.build_mipmaps()
        corners = np.asarray(quad.corners, dtype=np.float64)
        normal = np.cross(corners[1] - corners[0], corners[3] - corners[0])
        normal = -normal / np.linalg.norm(normal)
        uv = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
        order = np.array([0, 1, 2, 0, 2, 3])
        data = _interleave(corners[order], np.tile(normal, (6, 1)), np.zeros((6, 3)), uv[order], np.zeros(6))
        vbo = self.ctx.buffer(data.tobytes())
        vao = self.ctx.vertex_array(self.program, [(vbo, _VERTEX_FORMAT, *_ATTRIBUTES)])
        texture.use(location=0)
        vao.render()
        for resource in (vao, vbo, texture):
            resource.release()

    def _read(self, fbo, camera: VirtualCamera) -> RenderResult:
        w, h = camera.width, camera.height
        image = np.frombuffer(fbo.read(components=3, attachment=0), np.uint8).reshape(h, w, 3)[::-1]
        ids = np.frombuffer(fbo.read(components=1, attachment=1), np.uint8).reshape(h, w)[::-1]
        depth_buffer = np.frombuffer(fbo.read(components=1, attachment=-1, dtype="f4"), np.float32).reshape(h, w)
        depth_ndc = depth_buffer[::-1] * 2.0 - 1.0
        ids = np.where(depth_ndc >= 1.0, 0, ids).astype(np.uint8)  # the sky: nothing drawn there
        depth = (2.0 * FAR_M * NEAR_M / (FAR_M + NEAR_M - depth_ndc * (FAR_M - NEAR_M))).astype(np.float32)
        return RenderResult(image=np.ascontiguousarray(image), ids=np.ascontiguousarray(ids),
                            depth=np.ascontiguousarray(depth))

    def close(self) -> None:
        """Free the OpenGL context."""
        self.ctx.release()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
