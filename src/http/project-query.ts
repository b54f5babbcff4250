import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

/**
 * `?project_id=` of every route (CONTRACT §7). Checked where the project's services are
 * resolved (ProjectContexts: a 400 naming it when missing or malformed with
 * KEY_LAYOUT=project); ignored in the flat layout, which has one implicit project, so a
 * client that always sends it works against either layout.
 */
export class ProjectQuery {
  @ApiPropertyOptional({
    description:
      'The project (UUID or CUID). Required with KEY_LAYOUT=project (400 without it); ignored in the flat layout.',
    example: '3f1c0a52-8a7e-4c55-9b7a-2f7c1d9e6b10',
  })
  @IsOptional()
  @IsString()
  project_id?: string;
}
