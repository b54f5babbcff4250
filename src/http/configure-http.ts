import { INestApplication, ValidationPipe } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AllExceptionsFilter } from './all-exceptions.filter';

/**
 * What every HTTP instance of the service needs beyond its modules: strict input validation
 * (unknown fields are refused, values converted to their declared types), JSON errors
 * without internals, and the OpenAPI document with Swagger UI at `/docs`.
 */
export function configureHttp(app: INestApplication): void {
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      forbidUnknownValues: true,
    }),
  );
  app.useGlobalFilters(new AllExceptionsFilter());
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Clustering service')
      .setDescription(
        'Groups user feedback into clusters. Control endpoints (POST) need a bearer token when API_TOKEN is set.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
}
