"""The mesh engine's view of a source's faces, made as the engine makes them but kept in
memory only: two engine test files built it by hand (fifty-fourth round: one helper)."""

from __future__ import annotations

from facedub.engines.mesh_sources import SourceFaces
from facedub.engines.mesh_topology import mesh_topology, mesh_vertices
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import Faceset


def source_faces_in_memory(source: Faceset) -> SourceFaces:
    """Every face of `source`, cleaned (no shadow lift, catchlights kept), cached in memory
    for two faces, none on disk."""
    records = source.faces_of()
    vertices = [mesh_vertices(landmarks_in_crop(r.frame_landmarks, r.face_from_frame))
                for r in records]
    return SourceFaces(source, records, mesh_topology(), vertices, lift_shadows=False,
                       no_catchlights=False, cache_size=2)
